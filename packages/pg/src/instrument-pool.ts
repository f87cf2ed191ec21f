import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import {
  createPoolMetrics,
  InvalidOptionError,
  type PoolMetrics,
  PoolTimeoutError,
  registerBuildInfo,
} from '@goreliable/core'
import type { Pool, PoolClient } from 'pg'
import { pgCloser } from './closer.js'
import { pgHealthCheck } from './health-check.js'
import { type ClientInstrumentation, existingLoan, loanOf } from './instrument-client.js'
import { createLeakDetector, type Loan } from './leak-detector.js'
import { createPgMetrics, type PgMetrics } from './pg-metrics.js'
import { isAcquireTimeout, kInstrumentation, type PgPoolInstrumentation } from './pool-instrumentation.js'
import { type ResolvedPoolOptions, resolvePoolOptions } from './pool-options.js'
import type { PgPoolOptions } from './types.js'

export { instrumentPoolOptionKeys } from './pool-options.js'

type Release = (err?: unknown) => void
type ConnectCallback = (err: Error | undefined, client?: PoolClient, done?: Release) => void
type Connect = (callback?: ConnectCallback) => Promise<PoolClient> | undefined
type PoolQuery = (text: unknown, values?: unknown, callback?: unknown) => unknown
type End = (callback?: (err?: Error) => void) => Promise<void> | undefined

const noop = () => {}

/**
 * Instruments an existing node-postgres pool and returns it: the `db_client_connections_*` metrics of core's
 * `createPoolMetrics`, `db_client_operation_duration_seconds`, bounded waits that fail with
 * `PoolTimeoutError`, and leak detection. `createPool` is this applied to a new pool.
 *
 * Waits and holds are timed by wrapping `connect` on this instance (pg-pool emits no event when a caller
 * starts waiting, and `pool.query` takes its client through `this.connect(cb)`, so one wrapper sees every
 * loan) and the `release` each loan hands out. Call it before the pool is first used:
 * `statementTimeoutMs` applies to connections opened afterwards.
 *
 * @throws InvalidOptionError for a bad option, an object that is not a pg Pool, a pool already
 *   instrumented or ending, or a name an open pool of the registry already reports under.
 */
export function instrumentPool<P extends Pool>(pool: P, options: PgPoolOptions): P {
  requirePgPool(pool)
  const o = resolvePoolOptions(pool, options)

  let pending = 0
  // Validates the name and claims it in the registry before anything is touched.
  const poolMetrics = createPoolMetrics({
    name: o.name,
    registry: o.registry,
    read: () => ({
      idle: pool.idleCount,
      // pg counts connections being opened in totalCount: they count against max like lent ones.
      used: pool.totalCount - pool.idleCount,
      max: pool.options.max ?? 10,
      pending,
    }),
  })
  let removeCheck: (() => void) | undefined
  let removeCloser: (() => void) | undefined
  let pgMetrics: PgMetrics
  try {
    pgMetrics = createPgMetrics(o.registry, o.name)
    registerBuildInfo(o.registry, '@goreliable/pg', packageVersion())
    if (o.host !== undefined) {
      removeCheck = o.host.health.addCheck({
        name: `pg:${o.name}`,
        kind: 'readiness',
        check: pgHealthCheck(pool),
      })
      removeCloser = o.host.shutdown.addCloser(`pg:${o.name}`, pgCloser(pool))
    }
  } catch (err) {
    removeCheck?.()
    poolMetrics.close()
    throw err
  }

  // From here on nothing throws: the pool is patched in one go.
  pool.options.connectionTimeoutMillis = o.acquireTimeoutMs
  if (o.statementTimeoutMs !== undefined) pool.options.statement_timeout = o.statementTimeoutMs
  const leaks = createLeakDetector({
    poolName: o.name,
    leakDetectionMs: o.leakDetectionMs,
    logger: o.logger,
    onLeak: o.onLeak,
    count: pgMetrics.leak,
  })
  // A connection that fails while idle makes pg-pool emit 'error' on the pool, and an EventEmitter 'error'
  // without a listener kills the process. pg-pool has already dropped the client; the next caller gets a
  // new one. So: log it and carry on.
  pool.on('error', (err: Error) => {
    o.logger?.warn({ err, pool_name: o.name }, 'idle pg connection failed; the pool dropped it')
  })

  const instrumentation = patch(pool, o, poolMetrics, pgMetrics, leaks, {
    pending: (delta) => {
      pending += delta
    },
    onEnd: () => {
      removeCheck?.()
      removeCloser?.()
    },
  })
  Object.defineProperty(pool, kInstrumentation, { value: instrumentation })
  return pool
}

interface Hooks {
  pending(delta: 1 | -1): void
  onEnd(): void
}

function patch(
  pool: Pool,
  o: ResolvedPoolOptions,
  poolMetrics: PoolMetrics,
  pgMetrics: PgMetrics,
  leaks: ReturnType<typeof createLeakDetector>,
  hooks: Hooks,
): PgPoolInstrumentation {
  const connect = pool.connect as unknown as Connect
  const query = pool.query as unknown as PoolQuery
  const end = pool.end as unknown as End
  const PromiseImpl = (pool as { Promise?: PromiseConstructor }).Promise ?? Promise
  // Set while pool.query runs synchronously into connect(): its loans are released by pg itself, so the
  // acquiring stack (4 to 16 µs to capture on this project's machines) would buy nothing on the hot path.
  let inPoolQuery = false
  const clients: ClientInstrumentation = {
    poolName: o.name,
    metrics: pgMetrics,
    logger: o.logger,
    onNewClient: leaks.track,
  }
  // pg-pool emits 'remove' once a client's connection is closed: it will never be lent again.
  pool.on('remove', (client: PoolClient) => {
    const loan = existingLoan(client)
    if (loan !== undefined) leaks.untrack(loan)
  })

  const endLoan = (loan: Loan) => {
    loan.held = false
    loan.site = undefined
    poolMetrics.observeUse((performance.now() - loan.acquiredAt) / 1000)
  }

  const acquired = (
    err: Error | undefined,
    client: PoolClient | undefined,
    start: number,
    site: Loan['site'],
    callback: ConnectCallback,
  ) => {
    hooks.pending(-1)
    if (err !== undefined || client === undefined) {
      let error = err ?? new Error('pg-pool returned no client')
      if (isAcquireTimeout(error)) {
        poolMetrics.timeout()
        error = new PoolTimeoutError(o.name, o.acquireTimeoutMs, o.retryAfterSeconds, error)
      }
      callback(error, undefined, noop)
      return
    }
    const now = performance.now()
    poolMetrics.observeWait((now - start) / 1000)
    const loan = loanOf(client, clients)
    loan.held = true
    loan.acquiredAt = now
    loan.site = site
    loan.operation = undefined
    loan.reported = false
    // pg-pool gives each loan its own release (it throws when called twice); wrap that one, per loan, so
    // a stale double release still reaches pg's check instead of releasing somebody else's loan.
    const poolRelease = client.release as Release
    let released = false
    const release: Release = (releaseErr) => {
      if (!released) {
        released = true
        endLoan(loan)
      }
      return poolRelease(releaseErr)
    }
    client.release = release
    callback(undefined, client, release)
  }

  const instrumentedConnect = (callback?: ConnectCallback) => {
    const start = performance.now()
    let site: Loan['site']
    if (leaks.enabled && !inPoolQuery) {
      // Captured now, formatted only if this loan is ever reported.
      site = {}
      Error.captureStackTrace(site, instrumentedConnect)
    }
    hooks.pending(1)
    // pg-pool arms a timer for every acquire while connectionTimeoutMillis is set: a setTimeout and a
    // clearTimeout per query, 1 to 2% of a loopback `SELECT 1`. An acquire that an idle connection will serve
    // cannot wait: pg-pool hands the connection over on the next tick, before any timer or I/O event could
    // take it away, and an idle connection never coexists with a waiter that came earlier in another tick
    // (a release serves the queue at once). Only those acquires go without the timer.
    const servedNextTick = pool.idleCount > pool.waitingCount
    if (servedNextTick) pool.options.connectionTimeoutMillis = 0
    try {
      if (typeof callback === 'function') {
        connect.call(pool, (err, client) => acquired(err, client, start, site, callback))
        return undefined
      }
      return new PromiseImpl<PoolClient>((resolve, reject) => {
        connect.call(pool, (err, client) =>
          acquired(err, client, start, site, (e, c) => (e === undefined ? resolve(c!) : reject(e))),
        )
      })
    } finally {
      if (servedNextTick) pool.options.connectionTimeoutMillis = o.acquireTimeoutMs
    }
  }

  const instrumentedQuery = function (this: unknown, text: unknown, values?: unknown, callback?: unknown) {
    inPoolQuery = true
    try {
      return query.call(this, text, values, callback)
    } finally {
      inPoolQuery = false
    }
  }

  let ended: Promise<void> | undefined
  const instrumentedEnd = (callback?: (err?: Error) => void) => {
    // A second end() gets pg's own "Called end on pool more than once".
    if (ended !== undefined || pool.ending) return end.call(pool, callback)
    hooks.onEnd()
    ended = new Promise<void>((resolve, reject) => {
      end.call(pool, (err?: Error) => (err ? reject(err) : resolve()))
    })
    const finish = () => {
      leaks.close()
      poolMetrics.close()
    }
    ended.then(finish, finish)
    if (typeof callback === 'function') {
      ended.then(() => callback(), callback)
      return undefined
    }
    return ended
  }

  const p = pool as unknown as { connect: Connect; query: PoolQuery; end: End }
  p.connect = instrumentedConnect
  p.query = instrumentedQuery
  p.end = instrumentedEnd
  return {
    name: o.name,
    acquireTimeoutMs: o.acquireTimeoutMs,
    retryAfterSeconds: o.retryAfterSeconds,
    get ended() {
      return ended
    },
  }
}

function requirePgPool(pool: unknown): asserts pool is Pool {
  const p = pool as Partial<Pool> | null
  const ok =
    typeof p === 'object' &&
    p !== null &&
    typeof p.connect === 'function' &&
    typeof p.query === 'function' &&
    typeof p.end === 'function' &&
    typeof p.on === 'function' &&
    typeof p.options === 'object' &&
    typeof p.idleCount === 'number' &&
    typeof p.totalCount === 'number'
  if (!ok) throw new InvalidOptionError('pool', 'a pg Pool', pool)
  if ((pool as { [kInstrumentation]?: unknown })[kInstrumentation] !== undefined) {
    throw new InvalidOptionError('pool', 'a pool not already instrumented')
  }
  if (p.ending) throw new InvalidOptionError('pool', 'a pool that is not ending')
}

let version: string | undefined
function packageVersion(): string {
  version ??= (createRequire(import.meta.url)('../package.json') as { version: string }).version
  return version
}
