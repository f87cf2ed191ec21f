import { performance } from 'node:perf_hooks'
import type { Registry } from 'prom-client'
import { InvalidOptionError } from './errors.js'
import { optionalNumber, rejectUnknownKeys, requireObject } from './options.js'
import { createPoolMetrics } from './pool-metrics.js'

/**
 * The part of a generic-pool 3.x `Pool<T>` that instrumentation and `withResource` use. Structural, so
 * that this package's types do not require generic-pool to be installed (it is an optional peer).
 */
export interface GenericPoolLike<T> {
  acquire(priority?: number): PromiseLike<T>
  release(resource: T): PromiseLike<void>
  destroy(resource: T): PromiseLike<void>
  drain(): PromiseLike<void>
  clear(): PromiseLike<void>
  isBorrowedResource(resource: T): boolean
  /** Resources open and free. */
  readonly available: number
  /** Resources lent out. */
  readonly borrowed: number
  /** Acquires waiting. */
  readonly pending: number
  /** Most resources the pool will open. */
  readonly max: number
}

export interface InstrumentPoolOptions {
  /** The pool's name, exported as the `pool_name` label and carried by `PoolTimeoutError`. */
  name: string
  /** The prom-client Registry to report into. */
  registry: Registry
  /**
   * Whole seconds a client should wait before retrying when `withResource` times out on this pool; servers
   * send it as `Retry-After`.
   * @default 1
   */
  retryAfterSeconds?: number
}

/** Every option `instrumentPool` accepts; the docs test checks each one is documented. */
export const instrumentPoolOptionKeys = ['name', 'registry', 'retryAfterSeconds'] as const

/** What `withResource` learns from an instrumented pool. */
export interface PoolInstrumentation {
  readonly name: string
  readonly retryAfterSeconds: number
}

// Symbol.for, so that a pool instrumented by one copy of @goreliable/core is recognised by another.
const kInstrumentation = Symbol.for('goreliable.poolInstrumentation')

/** The name and retry hint given to `instrumentPool`, or undefined for a pool that was not instrumented. */
export function poolInstrumentation(pool: object): PoolInstrumentation | undefined {
  return (pool as { [kInstrumentation]?: PoolInstrumentation })[kInstrumentation]
}

/**
 * generic-pool rejects an acquire that outlives `acquireTimeoutMillis` with its own `TimeoutError`, a class
 * it does not export; its own queue recognises it by name, and so do we.
 */
export function isAcquireTimeout(err: unknown): boolean {
  return err instanceof Error && err.name === 'TimeoutError'
}

/**
 * Exports the pool metrics of `createPoolMetrics` for a generic-pool 3.x pool and returns the same pool.
 *
 * The gauges read `available`, `borrowed`, `max` and `pending` at scrape time. Waits, holds and timeouts
 * are timed by wrapping `acquire`, `release` and `destroy` on this instance: generic-pool emits no event for
 * any of them, and its own `use()` calls them through `this`, so instance wrappers see every loan whichever
 * way it is taken, while the prototype (other pools) stays untouched. When the pool is shut down the way
 * generic-pool documents (`drain()` then `clear()`), it stops being reported and its name is free again.
 *
 * @throws InvalidOptionError for a bad option, a pool already instrumented, or a name an open pool of this
 *   registry already reports under.
 */
export function instrumentPool<P extends GenericPoolLike<unknown>>(
  pool: P,
  options: InstrumentPoolOptions,
): P {
  requirePool(pool)
  const o = requireObject('options', options)
  rejectUnknownKeys('', o, instrumentPoolOptionKeys)
  const retryAfterSeconds = optionalNumber('retryAfterSeconds', o.retryAfterSeconds, 1, {
    min: 1,
    integer: true,
  })
  if (poolInstrumentation(pool) !== undefined) {
    throw new InvalidOptionError('pool', 'a pool not already instrumented', pool)
  }
  // Validates name and registry, and claims the name, before the pool is touched.
  const metrics = createPoolMetrics({
    name: o.name as string,
    registry: o.registry as Registry,
    read: () => ({ idle: pool.available, used: pool.borrowed, max: pool.max, pending: pool.pending }),
  })

  // Loan start times by resource; generic-pool keys its own loans the same way.
  const lentAt = new Map<unknown, number>()
  const endLoan = (resource: unknown) => {
    const start = lentAt.get(resource)
    if (start === undefined) return
    lentAt.delete(resource)
    metrics.observeUse((performance.now() - start) / 1000)
  }

  const { acquire, release, destroy, drain, clear } = pool
  pool.acquire = (priority?: number) => {
    const start = performance.now()
    return acquire.call(pool, priority).then(
      (resource) => {
        const now = performance.now()
        metrics.observeWait((now - start) / 1000)
        lentAt.set(resource, now)
        return resource
      },
      (err: unknown) => {
        if (isAcquireTimeout(err)) metrics.timeout()
        throw err
      },
    )
  }
  pool.release = (resource: unknown) => {
    endLoan(resource)
    return release.call(pool, resource)
  }
  pool.destroy = (resource: unknown) => {
    endLoan(resource)
    return destroy.call(pool, resource)
  }
  let draining = false
  pool.drain = () => {
    draining = true
    return drain.call(pool)
  }
  pool.clear = () => {
    const cleared = clear.call(pool)
    // clear() alone only empties the idle list, and the pool lives on; after drain() it is the end.
    if (draining) cleared.then(metrics.close, metrics.close)
    return cleared
  }

  const instrumentation: PoolInstrumentation = { name: metrics.name, retryAfterSeconds }
  Object.defineProperty(pool, kInstrumentation, { value: instrumentation })
  return pool
}

function requirePool(pool: unknown): asserts pool is GenericPoolLike<unknown> {
  const p = pool as Partial<GenericPoolLike<unknown>> | null
  const ok =
    typeof p === 'object' &&
    p !== null &&
    typeof p.acquire === 'function' &&
    typeof p.release === 'function' &&
    typeof p.destroy === 'function' &&
    typeof p.drain === 'function' &&
    typeof p.clear === 'function' &&
    typeof p.isBorrowedResource === 'function' &&
    typeof p.borrowed === 'number'
  if (!ok) throw new InvalidOptionError('pool', 'a generic-pool Pool', pool)
}
