import { Counter, Gauge, type Registry } from 'prom-client'
import { InvalidOptionError } from './errors.js'
import { createFastHistogram, type HistogramSeries } from './fast-histogram.js'
import { perRegistry, registerOnce } from './metric-family.js'
import {
  rejectUnknownKeys,
  requireFunction,
  requireObject,
  requireRegistry,
  requireString,
} from './options.js'

/** What a pool looks like at one instant; `read()` returns it at scrape time. */
export interface PoolStats {
  /** Connections (resources) open and free to lend. */
  idle: number
  /** Connections lent out right now. */
  used: number
  /** The most connections the pool will open. */
  max: number
  /** Callers waiting for a connection right now. */
  pending: number
}

export interface PoolMetricsOptions {
  /** The pool's name, exported as the `pool_name` label. Unique among open pools of one registry. */
  name: string
  /** The prom-client Registry to report into. Several pools share one metric family per registry. */
  registry: Registry
  /**
   * Reads the pool's current state. Called at scrape time, once for each of the three gauges, so it must be
   * synchronous and cheap (read counters the pool keeps; never query the database). If it throws, this
   * pool is left out of that scrape and the others are still reported.
   */
  read: () => PoolStats
}

/** Every option `createPoolMetrics` accepts; the docs test checks each one is documented. */
export const createPoolMetricsOptionKeys = ['name', 'registry', 'read'] as const

/** Hot-path recorders for one pool. Each costs a bucket search and two adds: no label hashing. */
export interface PoolMetrics {
  /** The `pool_name` label value. */
  readonly name: string
  /** Records how long one caller waited for a connection it then obtained. */
  observeWait(seconds: number): void
  /** Records how long one connection was held, from the moment it was lent to its release or destruction. */
  observeUse(seconds: number): void
  /** Counts one acquire that gave up because no connection became free in time. */
  timeout(): void
  /**
   * Stops reporting this pool's gauges and frees its name for a new pool. Its cumulative series (the two
   * histograms and the timeouts counter) stay: they are still true, and a pool re-created under the same
   * name continues them without a counter reset. Idempotent.
   */
  close(): void
}

/**
 * Waits and holds span from well under a millisecond (an idle connection handed over at once) to tens of
 * seconds (a saturated pool, a long transaction, a leaked client); DURATION_BUCKETS_SECONDS stops at 10 s,
 * which would hide exactly the holds that exhaust a pool.
 */
const POOL_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/**
 * The OpenTelemetry `db.client.connection.*` metrics, in the plural family that `promtool check metrics`
 * accepts: `db.client.connection.count` would become a gauge ending in `_count`, which Prometheus' lint
 * rejects (a `_count` suffix belongs to histograms and summaries).
 */
const NAMES = {
  connections: 'db_client_connections',
  max: 'db_client_connections_max',
  pending: 'db_client_connections_pending_requests',
  waitTime: 'db_client_connections_wait_time_seconds',
  useTime: 'db_client_connections_use_time_seconds',
  timeouts: 'db_client_connections_timeouts_total',
} as const

interface Family {
  /** Open pools of this registry, by name: what the gauges read at scrape time. */
  readonly sources: Map<string, () => PoolStats>
  readonly timeouts: Counter<'pool_name'>
}

const familyOf = perRegistry<Family>()

function createFamily(registry: Registry): Family {
  const sources = new Map<string, () => PoolStats>()
  // A pool whose read() throws is left out of this scrape rather than failing every pool's metrics.
  const each = (visit: (name: string, stats: PoolStats) => void) => {
    for (const [name, read] of sources) {
      let stats: PoolStats
      try {
        stats = read()
      } catch {
        continue
      }
      visit(name, stats)
    }
  }
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    fill: (g: Gauge<L>) => void,
  ) =>
    registerOnce(registry, name, () => {
      const g: Gauge<L> = new Gauge<L>({
        name,
        help,
        labelNames,
        registers: [],
        collect() {
          // Read at scrape time: series of pools closed since the last scrape must disappear.
          g.reset()
          fill(g)
        },
      })
      return g
    })

  gauge(NAMES.connections, 'Connections in the pool, by state: idle or used', ['pool_name', 'state'], (g) =>
    each((pool_name, s) => {
      g.set({ pool_name, state: 'idle' }, s.idle)
      g.set({ pool_name, state: 'used' }, s.used)
    }),
  )
  gauge(NAMES.max, 'The most connections the pool will open', ['pool_name'], (g) =>
    each((pool_name, s) => g.set({ pool_name }, s.max)),
  )
  gauge(NAMES.pending, 'Callers waiting for a connection from the pool', ['pool_name'], (g) =>
    each((pool_name, s) => g.set({ pool_name }, s.pending)),
  )
  const timeouts = registerOnce(
    registry,
    NAMES.timeouts,
    () =>
      new Counter({
        name: NAMES.timeouts,
        help: 'Acquires that gave up because no connection became free within the acquire timeout',
        labelNames: ['pool_name'],
        registers: [],
      }),
  )
  return { sources, timeouts }
}

/**
 * Defines the pool metric family once per registry and returns the recorders for one pool. The shared
 * building block of `instrumentPool` (generic-pool) and @goreliable/pg (node-postgres): each adapter knows
 * how to read its pool and where to time it, and this file alone knows the metric names.
 *
 * @throws InvalidOptionError (`name`) when an open pool of the same name already reports into `registry`:
 *   two pools under one name would mix their histograms and make their gauges collide.
 */
export function createPoolMetrics(options: PoolMetricsOptions): PoolMetrics {
  const o = requireObject('options', options)
  rejectUnknownKeys('', o, createPoolMetricsOptionKeys)
  const name = requireString('name', o.name)
  const registry = requireRegistry('registry', o.registry)
  const read = requireFunction<() => PoolStats>('read', o.read)

  const family = familyOf(registry, () => createFamily(registry))
  if (family.sources.has(name)) {
    throw new InvalidOptionError('name', 'a pool name no open pool of this registry uses', name)
  }
  const wait: HistogramSeries = createFastHistogram({
    name: NAMES.waitTime,
    help: 'Time callers waited to obtain a connection from the pool',
    labelNames: ['pool_name'],
    buckets: POOL_BUCKETS_SECONDS,
    registry,
  }).series(name)
  const use: HistogramSeries = createFastHistogram({
    name: NAMES.useTime,
    help: 'Time connections were held, from acquire to release',
    labelNames: ['pool_name'],
    buckets: POOL_BUCKETS_SECONDS,
    registry,
  }).series(name)
  // Exported at 0 from the start, so rate() sees the first timeout instead of a series appearing at 1.
  family.timeouts.inc({ pool_name: name }, 0)
  // A fresh function per pool, so close() can tell its own entry from that of a later pool of the same name.
  const source = () => read()
  family.sources.set(name, source)

  let open = true
  return {
    name,
    observeWait: (seconds) => wait.observe(seconds),
    observeUse: (seconds) => use.observe(seconds),
    timeout: () => family.timeouts.inc({ pool_name: name }),
    close() {
      if (open && family.sources.get(name) === source) family.sources.delete(name)
      open = false
    },
  }
}
