import { InvalidOptionError, validate } from '@goreliable/core'
import type { Pool, PoolClient } from 'pg'
import { TransactionRolledBackError } from './errors.js'
import { acquire, Lease, requirePool } from './lease.js'

/** PostgreSQL's isolation levels (`read uncommitted` behaves as `read committed` there). */
export type IsolationLevel = 'read uncommitted' | 'read committed' | 'repeatable read' | 'serializable'

const ISOLATION_LEVELS: readonly IsolationLevel[] = [
  'read uncommitted',
  'read committed',
  'repeatable read',
  'serializable',
]

export interface WithTransactionOptions {
  /**
   * The transaction's isolation level.
   * @default the server's default_transaction_isolation (normally 'read committed')
   */
  isolationLevel?: IsolationLevel
  /**
   * `true` starts a READ ONLY transaction, `false` a READ WRITE one.
   * @default the server's default_transaction_read_only (normally read write)
   */
  readOnly?: boolean
}

/** Every option `withTransaction` accepts; the docs test checks each one is documented. */
export const withTransactionOptionKeys = ['isolationLevel', 'readOnly'] as const

/**
 * Runs `fn(client)` inside a transaction: BEGIN, then COMMIT when `fn` resolves or ROLLBACK when it throws,
 * and the client goes back to the pool on every path before the caller sees the outcome. When ROLLBACK
 * itself fails, or the connection broke, the client is destroyed instead of returned.
 *
 * If `fn` resolves after a statement of the transaction failed (it caught the error), PostgreSQL answers
 * COMMIT with a rollback: `withTransaction` then rejects with `TransactionRolledBackError`
 * (`GR_ERR_TRANSACTION_ROLLED_BACK`) rather than pretend the writes were saved. Errors from `fn` and from
 * COMMIT (a serialization failure, `40001`) reach the caller unchanged.
 *
 * @example
 * await withTransaction(pool, async (client) => {
 *   await client.query('UPDATE accounts SET balance = balance - $1 WHERE id = $2', [amount, from])
 *   await client.query('UPDATE accounts SET balance = balance + $1 WHERE id = $2', [amount, to])
 * }, { isolationLevel: 'serializable' })
 */
export async function withTransaction<R>(
  pool: Pool,
  fn: (client: PoolClient) => R | PromiseLike<R>,
  options: WithTransactionOptions = {},
): Promise<R> {
  requirePool(pool)
  if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function', fn)
  const begin = beginStatement(options)
  const loan = new Lease(await acquire(pool))
  const { client } = loan
  let failure: unknown
  try {
    await client.query(begin)
    let result: R
    try {
      result = await fn(client)
    } catch (err) {
      failure = err
      try {
        await client.query('ROLLBACK')
      } catch (rollbackErr) {
        // The session's state is unknown now: it must not be lent to anyone again.
        loan.markBroken(rollbackErr as Error)
      }
      throw err
    }
    const commit = await client.query('COMMIT')
    if (commit.command === 'ROLLBACK') throw new TransactionRolledBackError()
    return result
  } catch (err) {
    failure ??= err
    throw err
  } finally {
    loan.release(failure)
  }
}

function beginStatement(options: unknown): string {
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, withTransactionOptionKeys)
  let sql = 'BEGIN'
  if (o.isolationLevel !== undefined) {
    sql += ` ISOLATION LEVEL ${validate.requireOneOf('isolationLevel', o.isolationLevel, ISOLATION_LEVELS).toUpperCase()}`
  }
  if (o.readOnly !== undefined) {
    sql += validate.optionalBoolean('readOnly', o.readOnly, false) ? ' READ ONLY' : ' READ WRITE'
  }
  return sql
}
