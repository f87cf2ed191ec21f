import { validate } from '@goreliable/core'
import type { Scrape } from './metrics-scraper.js'
import { sumSeries } from './prometheus-text.js'

/**
 * The saturation signals the capacity stepper reads, in the order it breaks ties (first seen in the same
 * scrape). CPU and the event loop come first because their saturation causes the others: a busy loop runs
 * query callbacks late, so connections are held longer and callers queue for the pool, and a busy consumer
 * lets its queue grow; a full pool or a growing queue does not make the CPU busy.
 */
export const SATURATION_SIGNALS = [
  'cpu',
  'event_loop_utilization',
  'event_loop_lag',
  'pool',
  'queue_depth',
] as const

/** One of {@link SATURATION_SIGNALS}. */
export type SaturationSignal = (typeof SATURATION_SIGNALS)[number]

/** The metric each signal is read from (every @goreliable service exports them). */
export const SIGNAL_METRICS: Readonly<Record<SaturationSignal, string>> = {
  pool: 'db_client_connections_pending_requests',
  queue_depth: 'queue_depth_messages',
  cpu: 'process_cpu_seconds_total',
  event_loop_utilization: 'nodejs_eventloop_utilization_ratio',
  event_loop_lag: 'nodejs_eventloop_lag_p99_seconds',
}

/** When a signal counts as crossed, judged over the scrapes of one load step. */
export interface SaturationThresholds {
  /** Share of the step's scrapes with callers waiting for a pool connection (pending > 0). @default 0.5 */
  poolPendingShare?: number
  /** Busy share of the event loop, mean over the step. @default 0.9 */
  eventLoopUtilization?: number
  /** Event-loop delay p99 in seconds, median over the step's scrapes. @default 0.1 */
  eventLoopLagSeconds?: number
  /** CPU used, in cores (process_cpu_seconds_total per second): a Node process runs JavaScript on one. @default 0.9 */
  cpuCores?: number
  /** Messages the queue must have grown by over the step, rising in most scrape intervals. @default 10 */
  queueGrowthMessages?: number
}

/** Every key of {@link SaturationThresholds}. */
export const saturationThresholdKeys = [
  'poolPendingShare',
  'eventLoopUtilization',
  'eventLoopLagSeconds',
  'cpuCores',
  'queueGrowthMessages',
] as const

/** What one signal showed during one step. */
export interface SignalReading {
  signal: SaturationSignal
  /** The metric it was read from. */
  metric: string
  crossed: boolean
  /** The signal's value over the step, in the unit its threshold uses. */
  value: number
  /** When the condition was first seen in the step (epoch ms), for ordering signals within a step. */
  firstAt: number | undefined
  /** The reading in words: `db_client_connections_pending_requests > 0 in 9/10 scrapes (max 38)`. */
  evidence: string
}

/** Validates thresholds and fills in the defaults. */
export function resolveThresholds(value: unknown = {}, where = 'saturation'): Required<SaturationThresholds> {
  const o = validate.requireObject(where, value)
  validate.rejectUnknownKeys(where, o, saturationThresholdKeys)
  const n = (key: keyof SaturationThresholds, fallback: number, max = Number.MAX_SAFE_INTEGER) =>
    validate.optionalNumber(`${where}.${key}`, o[key], fallback, { min: 0, max })
  return {
    poolPendingShare: n('poolPendingShare', 0.5, 1),
    eventLoopUtilization: n('eventLoopUtilization', 0.9, 1),
    eventLoopLagSeconds: n('eventLoopLagSeconds', 0.1),
    cpuCores: n('cpuCores', 0.9),
    queueGrowthMessages: n('queueGrowthMessages', 10),
  }
}

/**
 * Reads every saturation signal from one service's scrapes during one step. A signal whose metric the
 * service does not export is left out. Conditions must hold over the step, not in a single scrape: one slow
 * garbage collection or one burst of waiting callers is not a bottleneck.
 */
export function readSignals(
  scrapes: readonly Scrape[],
  thresholds: Required<SaturationThresholds>,
): SignalReading[] {
  const ok = scrapes.filter((s) => !s.error)
  const series = (metric: string) =>
    ok.flatMap((s) => {
      const v = sumSeries(s.samples, metric)
      return v === undefined || Number.isNaN(v) ? [] : [{ at: s.at, v }]
    })
  const readings: SignalReading[] = []

  const pending = series(SIGNAL_METRICS.pool)
  if (pending.length > 0) {
    const waiting = pending.filter((p) => p.v > 0)
    const share = waiting.length / pending.length
    readings.push({
      signal: 'pool',
      metric: SIGNAL_METRICS.pool,
      crossed: pending.length >= 2 && share >= thresholds.poolPendingShare,
      value: share,
      firstAt: waiting[0]?.at,
      evidence: `${SIGNAL_METRICS.pool} > 0 in ${waiting.length}/${pending.length} scrapes (max ${Math.max(...pending.map((p) => p.v))})`,
    })
  }

  const queue = series(SIGNAL_METRICS.queue_depth)
  if (queue.length >= 2) {
    const first = queue[0]!.v
    const last = queue.at(-1)!.v
    let rising = 0
    for (let i = 1; i < queue.length; i++) if (queue[i]!.v > queue[i - 1]!.v) rising++
    const growing = last - first >= thresholds.queueGrowthMessages && rising / (queue.length - 1) > 0.5
    readings.push({
      signal: 'queue_depth',
      metric: SIGNAL_METRICS.queue_depth,
      crossed: growing,
      value: last - first,
      firstAt: growing ? queue.find((q) => q.v > first)?.at : undefined,
      evidence: `${SIGNAL_METRICS.queue_depth} ${first} → ${last} (rising in ${rising}/${queue.length - 1} intervals)`,
    })
  }

  const cpu = series(SIGNAL_METRICS.cpu)
  if (cpu.length >= 2) {
    const span = (cpu.at(-1)!.at - cpu[0]!.at) / 1000
    const cores = span > 0 ? (cpu.at(-1)!.v - cpu[0]!.v) / span : 0
    let firstAt: number | undefined
    for (let i = 1; i < cpu.length && firstAt === undefined; i++) {
      const dt = (cpu[i]!.at - cpu[i - 1]!.at) / 1000
      if (dt > 0 && (cpu[i]!.v - cpu[i - 1]!.v) / dt >= thresholds.cpuCores) firstAt = cpu[i]!.at
    }
    readings.push({
      signal: 'cpu',
      metric: SIGNAL_METRICS.cpu,
      crossed: cores >= thresholds.cpuCores,
      value: cores,
      firstAt,
      evidence: `rate(${SIGNAL_METRICS.cpu}) ${cores.toFixed(2)} cores`,
    })
  }

  const elu = series(SIGNAL_METRICS.event_loop_utilization)
  if (elu.length > 0) {
    const mean = elu.reduce((a, p) => a + p.v, 0) / elu.length
    readings.push({
      signal: 'event_loop_utilization',
      metric: SIGNAL_METRICS.event_loop_utilization,
      crossed: elu.length >= 2 && mean >= thresholds.eventLoopUtilization,
      value: mean,
      firstAt: elu.find((p) => p.v >= thresholds.eventLoopUtilization)?.at,
      evidence: `${SIGNAL_METRICS.event_loop_utilization} mean ${mean.toFixed(2)}`,
    })
  }

  const lag = series(SIGNAL_METRICS.event_loop_lag)
  if (lag.length > 0) {
    const sorted = lag.map((p) => p.v).sort((a, b) => a - b)
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!
    readings.push({
      signal: 'event_loop_lag',
      metric: SIGNAL_METRICS.event_loop_lag,
      crossed: lag.length >= 2 && median >= thresholds.eventLoopLagSeconds,
      value: median,
      firstAt: lag.find((p) => p.v >= thresholds.eventLoopLagSeconds)?.at,
      evidence: `${SIGNAL_METRICS.event_loop_lag} median ${(median * 1000).toFixed(0)} ms`,
    })
  }
  return readings
}

/** The first crossed signal of a step: earliest first sighting, ties broken by {@link SATURATION_SIGNALS} order. */
export function firstCrossed(readings: readonly SignalReading[]): SignalReading | undefined {
  const crossed = readings.filter((r) => r.crossed)
  crossed.sort(
    (a, b) =>
      (a.firstAt ?? Number.POSITIVE_INFINITY) - (b.firstAt ?? Number.POSITIVE_INFINITY) ||
      SATURATION_SIGNALS.indexOf(a.signal) - SATURATION_SIGNALS.indexOf(b.signal),
  )
  return crossed[0]
}
