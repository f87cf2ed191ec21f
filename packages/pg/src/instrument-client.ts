import { performance } from 'node:perf_hooks'
import type { PoolClient } from 'pg'
import type { Loan } from './leak-detector.js'
import { type PgMetrics, UNNAMED_OPERATION } from './pg-metrics.js'
import type { PgLogger } from './types.js'

type QueryCallback = (err: Error | null, result?: unknown) => void
type QueryFn = (config: unknown, values?: unknown, callback?: unknown) => unknown

const kLoan = Symbol('goreliable.pgLoan')

interface InstrumentedClient {
  [kLoan]?: Loan
}

/** What instrumenting a client needs from its pool. */
export interface ClientInstrumentation {
  readonly poolName: string
  readonly metrics: PgMetrics
  readonly logger: PgLogger | undefined
  /** Called once per client, when it is first lent. */
  readonly onNewClient: (loan: Loan) => void
}

/**
 * The loan state of a client, instrumenting the client the first time the pool lends it: a pg client lives
 * as long as its connection, so its `query` is wrapped once, not per loan.
 */
export function loanOf(client: PoolClient, i: ClientInstrumentation): Loan {
  const c = client as PoolClient & InstrumentedClient
  let loan = c[kLoan]
  if (loan === undefined) {
    loan = { held: false, acquiredAt: 0, site: undefined, operation: undefined, reported: false }
    c[kLoan] = loan
    const held = loan
    const { logger, poolName } = i
    timeQueries(client, loan, i.metrics)
    i.onNewClient(loan)
    // pg-pool listens for 'error' only while a client is idle. A connection that breaks while a caller
    // holds the client (the server restarted, the backend was terminated) would then be an unhandled
    // 'error' event, which kills the process. The pool drops the client when it comes back unqueryable.
    client.on('error', (err: Error) => {
      // While idle, pg-pool's own listener handles it and the pool's 'error' listener logs it.
      if (held.held) logger?.warn({ err, pool_name: poolName }, 'pg connection of a lent client failed')
    })
  }
  return loan
}

/**
 * Times every query a client runs into `db_client_operation_duration_seconds`, labelled with the query's
 * `name` (never its text). Submittables (pg-cursor, pg-query-stream) pass through untimed: their lifetime is
 * the consumer's reading, not the database's work.
 */
function timeQueries(client: PoolClient, loan: Loan, metrics: PgMetrics): void {
  const query = client.query as unknown as QueryFn
  const timed = function (this: unknown, config: unknown, values?: unknown, callback?: unknown) {
    let name: string | undefined
    if (typeof config === 'object' && config !== null) {
      const c = config as { submit?: unknown; name?: unknown }
      if (typeof c.submit === 'function') return query.call(this, config, values, callback)
      if (typeof c.name === 'string' && c.name !== '') name = c.name
    } else if (typeof config !== 'string') {
      // null and the like: pg's own error, unchanged.
      return query.call(this, config, values, callback)
    }
    return timedQuery(this, config, values, callback, name)
  }
  const timedQuery = (
    self: unknown,
    config: unknown,
    values: unknown,
    callback: unknown,
    name: string | undefined,
  ) => {
    loan.operation = name ?? UNNAMED_OPERATION
    const series = metrics.operation(name)
    const start = performance.now()
    const wrap =
      (cb: QueryCallback): QueryCallback =>
      (err, result) => {
        series.observe((performance.now() - start) / 1000)
        cb(err, result)
      }
    // The same argument shapes pg's Client#query accepts: (config, cb), (config, values, cb), a callback in
    // the config object, or none (a promise).
    if (typeof values === 'function') return query.call(self, config, wrap(values as QueryCallback))
    if (typeof callback === 'function')
      return query.call(self, config, values, wrap(callback as QueryCallback))
    const inConfig = (config as { callback?: unknown }).callback
    if (typeof inConfig === 'function')
      return query.call(self, config, values, wrap(inConfig as QueryCallback))
    const result = query.call(self, config, values) as Promise<unknown>
    // The caller gets the chained promise, so a rejection nobody handles is still reported as unhandled.
    return result.then(
      (r) => {
        series.observe((performance.now() - start) / 1000)
        return r
      },
      (err: unknown) => {
        series.observe((performance.now() - start) / 1000)
        throw err
      },
    )
  }
  ;(client as unknown as { query: QueryFn }).query = timed
}

/** The loan state of a client this package has lent before, if any. */
export function existingLoan(client: PoolClient): Loan | undefined {
  return (client as PoolClient & InstrumentedClient)[kLoan]
}
