import { createFastHistogram, type HistogramSeries, registerOnce } from '@goreliable/core'
import { Counter, type Registry } from 'prom-client'

/** The label value of queries that carry no `name`. The SQL text never becomes a label value. */
export const UNNAMED_OPERATION = 'unnamed'
/** The label value once a pool has seen `MAX_OPERATIONS` distinct names: a label must stay bounded. */
export const OTHER_OPERATION = 'other'
/** Distinct query names per pool that get their own series; a name built from data would explode otherwise. */
const MAX_OPERATIONS = 200

/** The same bounds as core's pool histograms: a query can run from well under 1 ms to a statement timeout. */
const OPERATION_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]

const LEAKS = 'db_client_connections_leaks_total'
const OPERATION_DURATION = 'db_client_operation_duration_seconds'

/** The metrics @goreliable/pg adds to core's `db_client_connections_*` family, for one pool. */
export interface PgMetrics {
  /** The operation-duration series for a query's `name` (undefined: unnamed); cached, so cheap per query. */
  operation(name: string | undefined): HistogramSeries
  leak(): void
}

export function createPgMetrics(registry: Registry, poolName: string): PgMetrics {
  const leaks = registerOnce(
    registry,
    LEAKS,
    () =>
      new Counter({
        name: LEAKS,
        help: 'Clients held longer than the leak detection threshold (each loan counted once)',
        labelNames: ['pool_name'],
        registers: [],
      }),
  ) as Counter<'pool_name'>
  // Exported at 0 from the start, so an alert on increase() sees the first leak.
  leaks.inc({ pool_name: poolName }, 0)

  const durations = createFastHistogram({
    name: OPERATION_DURATION,
    help: 'Duration of database operations, by the query name given to pg (unnamed otherwise)',
    labelNames: ['pool_name', 'operation'],
    buckets: OPERATION_BUCKETS_SECONDS,
    registry,
  })
  const unnamed = durations.series(poolName, UNNAMED_OPERATION)
  const byName = new Map<string, HistogramSeries>()
  return {
    operation(name) {
      if (name === undefined) return unnamed
      let series = byName.get(name)
      if (series === undefined) {
        // Past the cap, names are not remembered either, so names built from data cannot grow the map.
        if (byName.size >= MAX_OPERATIONS) return durations.series(poolName, OTHER_OPERATION)
        series = durations.series(poolName, name)
        byName.set(name, series)
      }
      return series
    },
    leak: () => leaks.inc({ pool_name: poolName }),
  }
}
