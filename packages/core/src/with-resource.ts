import { performance } from 'node:perf_hooks'
import { InvalidOptionError, PoolTimeoutError } from './errors.js'
import { type GenericPoolLike, isAcquireTimeout, poolInstrumentation } from './instrument-pool.js'

/** The part of a generic-pool `Pool<T>` that `withResource` uses. */
export type WithResourcePool<T> = Pick<GenericPoolLike<T>, 'acquire' | 'release' | 'isBorrowedResource'>

/**
 * Acquires a resource, runs `fn` with it and releases it on every path: return, throw, rejection.
 *
 * It releases rather than destroys after an error (generic-pool's own `use()` destroys): most errors are
 * the caller's (a constraint violation, a 4xx from upstream), and destroying on each would churn
 * connections when a service is already under stress. A broken resource is the factory's `validate` to
 * catch, with `testOnBorrow`; `fn` may also `pool.destroy()` a resource it found broken, and it is then left
 * alone. `fn` must not `pool.release()` it: generic-pool keys loans by resource, so a resource released
 * early and lent to the next caller looks still borrowed, and would be released under that caller.
 *
 * An acquire that outlives the pool's `acquireTimeoutMillis` rejects with `PoolTimeoutError` (code
 * `GR_ERR_POOL_TIMEOUT`, status 503, `retryAfterSeconds` from `instrumentPool`, else 1, generic-pool's error
 * as `cause`). Other acquire errors (a draining pool, `maxWaitingClients` exceeded) pass through unchanged.
 * Works on any generic-pool 3.x pool; instrumentation only supplies the name and the retry hint.
 */
export async function withResource<T, R>(
  pool: WithResourcePool<T>,
  fn: (resource: T) => R | PromiseLike<R>,
): Promise<R> {
  if (typeof pool?.acquire !== 'function') throw new InvalidOptionError('pool', 'a generic-pool Pool', pool)
  if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function', fn)

  const start = performance.now()
  let resource: T
  try {
    resource = await pool.acquire()
  } catch (err) {
    if (isAcquireTimeout(err)) throw poolTimeout(pool, performance.now() - start, err)
    throw err
  }
  try {
    return await fn(resource)
  } finally {
    if (pool.isBorrowedResource(resource)) await pool.release(resource)
  }
}

function poolTimeout(pool: object, waitedMs: number, cause: unknown): PoolTimeoutError {
  const instrumentation = poolInstrumentation(pool)
  // generic-pool keeps its options private; 3.x has kept them in `_config` throughout. The measured wait
  // is the fallback should that ever change.
  const configured = (pool as { _config?: { acquireTimeoutMillis?: unknown } })._config?.acquireTimeoutMillis
  const timeoutMs = typeof configured === 'number' ? configured : Math.round(waitedMs)
  return new PoolTimeoutError(
    instrumentation?.name ?? 'unnamed',
    timeoutMs,
    instrumentation?.retryAfterSeconds ?? 1,
    cause,
  )
}
