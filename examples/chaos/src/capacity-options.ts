import { InvalidOptionError, validate } from '@goreliable/core'
import type { LoadSpec } from './experiment.js'
import type { IsError } from './load-summary.js'
import { resolveThresholds, type SaturationThresholds } from './saturation.js'

/** A service whose /metrics the stepper reads during each step. */
export interface CapacityService {
  name: string
  /** Its Prometheus endpoint. */
  metricsUrl: string
  /** A counter whose rate is this service's throughput (for the "max sustained rate" column). @default none: the driver's successful requests per second */
  throughput?: CapacityThroughput
}

/** How a service's own throughput is read. */
export interface CapacityThroughput {
  /** The counter, such as `http_request_duration_seconds_count` or `orders_created_total`. */
  metric: string
  /** Only the series with these labels. @default all series of `metric` */
  labels?: Record<string, string>
  /** Report per minute instead of per second (`orders/min`). @default false */
  perMinute?: boolean
  /** The unit printed after the number. @default 'req/s', or '/min' with perMinute */
  unit?: string
}

/** The load of each step: the driver's options without rate, concurrency or duration, which the stepper sets. */
export type CapacityLoad = Omit<LoadSpec, 'ratePerSecond' | 'concurrency'>

/** Options of `runCapacity`. */
export interface CapacityOptions {
  /** What to send, and where. `timeoutMs` defaults to 2000 here: a slower answer is over the p99 threshold anyway. */
  load: CapacityLoad
  /** The services to read saturation signals from. */
  services: readonly CapacityService[]
  /** Offered load of the first step. @default 10 */
  startRatePerSecond?: number
  /** Each step offers this many times the previous one. @default 1.5 */
  growthFactor?: number
  /** The last step offers at most this; the run ends there if nothing broke. @default 2000 */
  maxRatePerSecond?: number
  /** Most steps. @default 12 */
  maxSteps?: number
  /** Length of each step. @default 10000 */
  stepDurationMs?: number
  /** The start of each step that is not judged, while the previous step's backlog clears. @default min(2000, stepDurationMs / 4) */
  settleMs?: number
  /** The p99 latency threshold. @default 500 */
  p99ThresholdMs?: number
  /** The error-rate threshold (0 to 1). @default 0.01 */
  errorRateThreshold?: number
  /** When each saturation signal counts as crossed. @default see {@link SaturationThresholds} */
  saturation?: SaturationThresholds
  /** Time between scrapes of each service. @default 500 */
  scrapeIntervalMs?: number
  /** What counts as a failed request. @default no answer (including dropped) or a 5xx */
  isError?: IsError
  /** Load at the first step's rate before the first step, not judged: connections, JIT and caches warm up. @default 2000 */
  warmupMs?: number
  /**
   * Run a step that broke a threshold once more, and stop only if it breaks again: one garbage-collection
   * pause or a burst from a neighbour on a shared machine should not end the run early.
   * @default true
   */
  confirmBreak?: boolean
  /** Receives one line when each step starts and one when it ends. @default no output */
  onProgress?: (line: string) => void
}

/** Every option key of `runCapacity`. */
export const runCapacityOptionKeys = [
  'load',
  'services',
  'startRatePerSecond',
  'growthFactor',
  'maxRatePerSecond',
  'maxSteps',
  'stepDurationMs',
  'settleMs',
  'p99ThresholdMs',
  'errorRateThreshold',
  'saturation',
  'scrapeIntervalMs',
  'isError',
  'warmupMs',
  'confirmBreak',
  'onProgress',
] as const

/** The options with defaults filled in. */
export type ResolvedCapacityOptions = ReturnType<typeof resolveCapacityOptions>

/** Validates the options of `runCapacity` and fills in the defaults. */
export function resolveCapacityOptions(options: CapacityOptions) {
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, runCapacityOptionKeys)
  const load = validate.requireObject('load', o.load)
  if ('ratePerSecond' in load || 'concurrency' in load || 'durationMs' in load) {
    throw new InvalidOptionError('load', 'load options without ratePerSecond, concurrency or durationMs')
  }
  if (!Array.isArray(o.services) || o.services.length === 0) {
    throw new InvalidOptionError(
      'services',
      'a non-empty array of { name, metricsUrl, throughput? }',
      o.services,
    )
  }
  const services = (o.services as CapacityService[]).map((s, i) => {
    validate.requireObject(`services[${i}]`, s)
    validate.rejectUnknownKeys(`services[${i}]`, s as unknown as Record<string, unknown>, [
      'name',
      'metricsUrl',
      'throughput',
    ])
    const t = validate.optionalObject(`services[${i}].throughput`, s.throughput)
    if (t) {
      validate.rejectUnknownKeys(`services[${i}].throughput`, t, ['metric', 'labels', 'perMinute', 'unit'])
      validate.requireMetricName(`services[${i}].throughput.metric`, t.metric)
    }
    return {
      ...s,
      name: validate.requireString(`services[${i}].name`, s.name),
      metricsUrl: validate.requireString(`services[${i}].metricsUrl`, s.metricsUrl),
    }
  })
  const stepDurationMs = validate.optionalNumber('stepDurationMs', o.stepDurationMs, 10_000, { min: 100 })
  const settleMs = validate.optionalNumber('settleMs', o.settleMs, Math.min(2000, stepDurationMs / 4), {
    max: stepDurationMs - 50,
  })
  const startRatePerSecond = validate.optionalNumber('startRatePerSecond', o.startRatePerSecond, 10, {
    min: 0.1,
  })
  return {
    load: load as CapacityLoad,
    services,
    startRatePerSecond,
    growthFactor: validate.optionalNumber('growthFactor', o.growthFactor, 1.5, { min: 1.01, max: 10 }),
    maxRatePerSecond: validate.optionalNumber('maxRatePerSecond', o.maxRatePerSecond, 2000, {
      min: startRatePerSecond,
    }),
    maxSteps: validate.optionalNumber('maxSteps', o.maxSteps, 12, { min: 1, max: 100, integer: true }),
    stepDurationMs,
    settleMs,
    p99ThresholdMs: validate.optionalNumber('p99ThresholdMs', o.p99ThresholdMs, 500, { min: 1 }),
    errorRateThreshold: validate.optionalNumber('errorRateThreshold', o.errorRateThreshold, 0.01, { max: 1 }),
    saturation: resolveThresholds(o.saturation ?? {}, 'saturation'),
    scrapeIntervalMs: validate.optionalNumber('scrapeIntervalMs', o.scrapeIntervalMs, 500, { min: 10 }),
    isError: validate.optionalFunction<IsError>('isError', o.isError),
    warmupMs: validate.optionalNumber('warmupMs', o.warmupMs, 2000),
    confirmBreak: validate.optionalBoolean('confirmBreak', o.confirmBreak, true),
    onProgress: validate.optionalFunction<(line: string) => void>('onProgress', o.onProgress) ?? (() => {}),
  }
}
