import { InvalidOptionError, validate } from '@goreliable/core'
import { DROPPED, type RequestSample } from './load-driver.js'

/** Decides which samples are failures. */
export type IsError = (sample: RequestSample) => boolean

/** The default {@link IsError}: no answer (status 0, including dropped requests) or a 5xx. */
export const isServerError: IsError = (s) => s.status === 0 || s.status >= 500

/** Options of {@link summarize}. */
export interface SummaryOptions {
  /** Only requests sent at or after this epoch millisecond. @default the first sample */
  from?: number
  /** Only requests sent before this epoch millisecond. @default after the last sample */
  to?: number
  /**
   * Which requests belong to `[from, to)`: `sent` in it, `completed` in it (answered or failed), or
   * `overlapping` it (in flight at some moment of it, so a request sent just before a fault and failed by it
   * counts as the fault's).
   * @default 'sent'
   */
  include?: 'sent' | 'completed' | 'overlapping'
  /** What counts as an error. @default {@link isServerError} */
  isError?: IsError
}

/** Every option key of {@link summarize}. */
export const summarizeOptionKeys = ['from', 'to', 'include', 'isError'] as const

/** What clients saw in a window of a load run. */
export interface LoadSummary {
  /** Requests sent in the window, dropped ones included. */
  requests: number
  /** Of those, the ones `isError` counts as failed. */
  errors: number
  /** `errors / requests`, 0 for an empty window. */
  errorRate: number
  /** Requests the driver did not send because too many were in flight. */
  dropped: number
  /** Count per HTTP status; `0` is no answer. Keys are the status as a string. */
  statusCounts: Record<string, number>
  /** Count per error code of the status-0 requests (`ECONNREFUSED`, `ECONNRESET`, `TIMEOUT`, `DROPPED`...). */
  errorCodes: Record<string, number>
  /** Latency percentiles over the requests that were sent (dropped ones have no latency); undefined when none. */
  p50Ms: number | undefined
  p90Ms: number | undefined
  p99Ms: number | undefined
  maxMs: number | undefined
  /** Requests that did not fail, per second of the window. */
  throughputPerSecond: number
  /** The window's length in milliseconds. */
  durationMs: number
}

/** Summarizes the samples of `[from, to)` (see `include` for which ones belong to it). */
export function summarize(samples: readonly RequestSample[], options: SummaryOptions = {}): LoadSummary {
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, summarizeOptionKeys)
  const from = validate.optionalNumber('from', o.from, undefined, { min: 0, max: Number.MAX_VALUE })
  const to = validate.optionalNumber('to', o.to, undefined, { min: 0, max: Number.MAX_VALUE })
  if (from !== undefined && to !== undefined && to < from)
    throw new InvalidOptionError('to', 'a time >= from', to)
  const isError = validate.optionalFunction<IsError>('isError', o.isError) ?? isServerError
  const include = validate.requireOneOf('include', o.include ?? 'sent', [
    'sent',
    'completed',
    'overlapping',
  ] as const)
  const lo = from ?? Number.NEGATIVE_INFINITY
  const hi = to ?? Number.POSITIVE_INFINITY
  const belongs =
    include === 'sent'
      ? (s: RequestSample) => s.at >= lo && s.at < hi
      : include === 'completed'
        ? (s: RequestSample) => s.at + s.latencyMs >= lo && s.at + s.latencyMs < hi
        : (s: RequestSample) => s.at < hi && s.at + s.latencyMs >= lo

  const inWindow = samples.filter(belongs)
  const statusCounts: Record<string, number> = {}
  const errorCodes: Record<string, number> = {}
  const latencies: number[] = []
  let errors = 0
  let dropped = 0
  let first = Number.POSITIVE_INFINITY
  let last = Number.NEGATIVE_INFINITY
  for (const s of inWindow) {
    statusCounts[s.status] = (statusCounts[s.status] ?? 0) + 1
    if (s.status === 0) errorCodes[s.error ?? 'ERROR'] = (errorCodes[s.error ?? 'ERROR'] ?? 0) + 1
    if (s.error === DROPPED) dropped++
    else latencies.push(s.latencyMs)
    if (isError(s)) errors++
    first = Math.min(first, s.at)
    last = Math.max(last, s.at)
  }
  latencies.sort((a, b) => a - b)
  const durationMs =
    from !== undefined && to !== undefined ? to - from : inWindow.length > 1 ? Math.max(last - first, 1) : 0
  return {
    requests: inWindow.length,
    errors,
    errorRate: inWindow.length === 0 ? 0 : errors / inWindow.length,
    dropped,
    statusCounts,
    errorCodes,
    p50Ms: percentile(latencies, 50),
    p90Ms: percentile(latencies, 90),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.length ? latencies[latencies.length - 1] : undefined,
    throughputPerSecond: durationMs > 0 ? ((inWindow.length - errors) * 1000) / durationMs : 0,
    durationMs,
  }
}

/** The nearest-rank percentile `p` (0 to 100) of ascending `sorted` values; undefined when empty. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]
}

/** Count per HTTP status (`0` is no answer), keys as strings. */
export function statusHistogram(samples: readonly RequestSample[]): Record<string, number> {
  return summarize(samples).statusCounts
}

/** Options of {@link timeToRecover}. */
export interface TimeToRecoverOptions {
  /** When the fault ended (epoch milliseconds): recovery is measured from here. */
  after: number
  /** How long requests must keep succeeding for the recovery to count. @default 2000 */
  sustainMs?: number
  /** Fewest requests the sustained run must hold. @default 5 */
  minRequests?: number
  /** What counts as an error. @default {@link isServerError} */
  isError?: IsError
}

/** Every option key of {@link timeToRecover}. */
export const timeToRecoverOptionKeys = ['after', 'sustainMs', 'minRequests', 'isError'] as const

/**
 * Milliseconds from `after` to the first request of the first sustained run of successes: a success sent at
 * or after `after`, followed by no failure for `sustainMs` and at least `minRequests` requests. 0 when
 * requests succeeded from `after` on; `null` when the samples never show a sustained recovery (it may have
 * come after the load stopped: give the run a longer tail than `sustainMs`).
 */
export function timeToRecover(
  samples: readonly RequestSample[],
  options: TimeToRecoverOptions,
): number | null {
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, timeToRecoverOptionKeys)
  const after = validate.requireNumber('after', o.after, { max: Number.MAX_VALUE })
  const sustainMs = validate.optionalNumber('sustainMs', o.sustainMs, 2000)
  const minRequests = validate.optionalNumber('minRequests', o.minRequests, 5, { min: 1, integer: true })
  const isError = validate.optionalFunction<IsError>('isError', o.isError) ?? isServerError

  const ordered = samples.filter((s) => s.at >= after).sort((a, b) => a.at - b.at)
  let start: RequestSample | undefined
  let count = 0
  for (const s of ordered) {
    if (isError(s)) {
      start = undefined
      count = 0
      continue
    }
    if (!start) start = s
    count++
    if (s.at - start.at >= sustainMs && count >= minRequests) return Math.max(0, start.at - after)
  }
  return null
}
