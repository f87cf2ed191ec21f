import { InvalidOptionError } from '@goreliable/core'
import type { Pool, PoolClient } from 'pg'
import { acquire, Lease, requirePool } from './lease.js'

/**
 * Takes a client from `pool`, runs `fn(client)` and gives the client back on every path: return, throw and
 * rejection, before the caller sees the outcome. A client whose connection broke during `fn` (an 'error'
 * event, or an error that says so: SQLSTATE class 08, `57P01` from `pg_terminate_backend`, a reset socket)
 * is destroyed instead, and so is one that `fn` left inside an open transaction. Errors from `fn`,
 * including pg's own (with their SQLSTATE `code`), reach the caller unchanged.
 *
 * An acquire that outlives `acquireTimeoutMs` rejects with `PoolTimeoutError`. Works on any pg Pool;
 * `fn` must not call `client.release()` itself.
 *
 * @example
 * const user = await withClient(pool, async (client) => {
 *   const { rows } = await client.query({ name: 'user_by_id', text: 'SELECT * FROM users WHERE id = $1', values: [id] })
 *   return rows[0]
 * })
 */
export async function withClient<R>(pool: Pool, fn: (client: PoolClient) => R | PromiseLike<R>): Promise<R> {
  requirePool(pool)
  if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function', fn)
  const loan = new Lease(await acquire(pool))
  let failure: unknown
  try {
    return await fn(loan.client)
  } catch (err) {
    failure = err
    throw err
  } finally {
    loan.release(failure)
  }
}
