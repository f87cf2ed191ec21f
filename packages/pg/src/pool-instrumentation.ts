import { PoolTimeoutError } from '@goreliable/core'

/**
 * pg-pool signals a bounded wait that ran out with plain Errors and no code, so they are known by message:
 * the first when the caller was still queued, the second when the pool was opening a connection for it
 * (pg-pool's `connectionTimeoutMillis` covers both, which is why `acquireTimeoutMs` maps onto it).
 */
const TIMEOUT_MESSAGES = new Set([
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
])

/** True for pg-pool's own "no connection within connectionTimeoutMillis" errors. */
export function isAcquireTimeout(err: unknown): err is Error {
  return err instanceof Error && TIMEOUT_MESSAGES.has(err.message)
}

/** What the helpers know about a pool instrumented by this package. */
export interface PgPoolInstrumentation {
  readonly name: string
  readonly acquireTimeoutMs: number
  readonly retryAfterSeconds: number
  /** The promise of the first `end()`, once it was called. */
  readonly ended: Promise<void> | undefined
}

// Symbol.for, so that a pool instrumented by one copy of @goreliable/pg is recognised by another.
export const kInstrumentation = Symbol.for('goreliable.pgPoolInstrumentation')

/** The instrumentation of a pool, or undefined when `instrumentPool` never saw it. */
export function pgInstrumentation(pool: object): PgPoolInstrumentation | undefined {
  return (pool as { [kInstrumentation]?: PgPoolInstrumentation })[kInstrumentation]
}

/**
 * The helpers turn a raw pg-pool timeout into `PoolTimeoutError` also on pools that were not instrumented
 * (an instrumented pool has already done so), naming the pool `unnamed` and taking the timeout from its
 * config.
 */
export function toPoolTimeout(err: Error, pool: object): PoolTimeoutError {
  const configured = (pool as { options?: { connectionTimeoutMillis?: unknown } }).options
    ?.connectionTimeoutMillis
  return new PoolTimeoutError('unnamed', typeof configured === 'number' ? configured : 0, 1, err)
}
