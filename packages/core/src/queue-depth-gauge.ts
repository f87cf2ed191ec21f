import { performance } from 'node:perf_hooks'
import type { Registry } from 'prom-client'
import { ErrorCodes, InvalidOptionError, TimeoutError } from './errors.js'
import {
  optionalNumber,
  rejectUnknownKeys,
  requireFunction,
  requireLabelNames,
  requireMetricName,
  requireObject,
  requireRegistry,
  requireString,
} from './options.js'

/** One labelled value returned by `collect`. */
export interface QueueDepthSample {
  /** Label values by label name; every name must be one of `labelNames`. */
  labels: Record<string, string | number>
  value: number
}

/** What `collect` returns: one unlabelled value, or one value per label set. */
export type QueueDepthResult = number | readonly QueueDepthSample[]

export interface QueueDepthGaugeOptions {
  /** The gauge's metric name; the companion metrics are named after it. */
  name: string
  /** The gauge's help text. */
  help: string
  /**
   * Label names of the gauge, e.g. `['stream', 'consumer']`.
   * @default []
   */
  labelNames?: readonly string[]
  /** Asks the broker for the current depth. Called at scrape time at most once per `cacheMs`. */
  collect: () => QueueDepthResult | PromiseLike<QueueDepthResult>
  /**
   * How long a collect's outcome (values or failure) is served before the next scrape collects again, so
   * a burst of scrapes (several Prometheus replicas, a dashboard) asks the broker once.
   * @default 1000
   */
  cacheMs?: number
  /**
   * How long one collect may take. Past it the scrape goes on with the last good values and the collect
   * counts as an error; its late answer is ignored.
   * @default 2000
   */
  timeoutMs?: number
  /** The prom-client Registry to report into. */
  registry: Registry
}

/** Every option `createQueueDepthGauge` accepts; the docs test checks each one is documented. */
export const createQueueDepthGaugeOptionKeys = [
  'name',
  'help',
  'labelNames',
  'collect',
  'cacheMs',
  'timeoutMs',
  'registry',
] as const

export interface QueueDepthGauge {
  /** The gauge's metric name. */
  readonly name: string
  /**
   * Why the latest collect failed: what it threw or rejected with, a `TypeError` for a malformed result,
   * or a `TimeoutError` with code `GR_ERR_COLLECT_TIMEOUT`. Undefined after a success.
   */
  readonly lastError: unknown
  /** Collects now, ignoring the cache (or joins a collect in flight). Never rejects: failures are counted. */
  refresh(): Promise<void>
  /** Unregisters the three metrics and abandons a collect in flight. Idempotent. */
  close(): void
}

type Outcome = { ok: true; samples: Sample[] } | { ok: false; error: unknown }

/**
 * A gauge whose values come from an async `collect()`, typically a broker's API (consumer lag, pending
 * messages). Scrapes never wait on the broker longer than `timeoutMs`; on a failure or a timeout the gauge
 * keeps its last good values and the failure shows in the companion metrics:
 *
 * - `<name>{labelNames}` gauge: the last good values (no series before the first success, rather than a
 *   made-up 0);
 * - `<name>_collect_errors_total` counter: collects that threw, rejected, timed out or returned a malformed
 *   result;
 * - `<name>_age_seconds` gauge: seconds since the values were collected (since creation before the first
 *   success), the signal to alert on when a broker goes quiet.
 *
 * @throws InvalidOptionError for a bad option, or a name (or companion name) already in the registry.
 */
export function createQueueDepthGauge(options: QueueDepthGaugeOptions): QueueDepthGauge {
  const o = requireObject('options', options)
  rejectUnknownKeys('', o, createQueueDepthGaugeOptionKeys)
  const name = requireMetricName('name', o.name)
  const help = requireString('help', o.help)
  const labelNames = requireLabelNames('labelNames', o.labelNames)
  const collect = requireFunction<QueueDepthGaugeOptions['collect']>('collect', o.collect)
  const cacheMs = optionalNumber('cacheMs', o.cacheMs, 1000)
  // setTimeout turns anything past 2^31-1 ms into 1 ms.
  const timeoutMs = optionalNumber('timeoutMs', o.timeoutMs, 2000, { min: 1, max: 2 ** 31 - 1 })
  const registry = requireRegistry('registry', o.registry)
  const errorsName = `${name}_collect_errors_total`
  const ageName = `${name}_age_seconds`
  for (const n of [name, errorsName, ageName]) {
    if (registry.getSingleMetric(n)) {
      throw new InvalidOptionError('name', `a name whose metrics are not registered yet ("${n}" is)`, name)
    }
  }

  let samples: Sample[] | undefined
  let goodAt = performance.now()
  let settledAt = Number.NEGATIVE_INFINITY
  let lastError: unknown
  let errorCount = 0
  let inflight: Promise<void> | undefined
  let abandon: (() => void) | undefined
  let closed = false

  const attempt = (): Promise<void> => {
    if (inflight) return inflight
    if (closed) return Promise.resolve()
    inflight = new Promise<void>((settle) => {
      let finished = false
      const finish = (outcome: Outcome | undefined) => {
        if (finished) return
        finished = true
        clearTimeout(timer)
        inflight = undefined
        abandon = undefined
        settledAt = performance.now()
        if (outcome?.ok) {
          samples = outcome.samples
          goodAt = settledAt
          lastError = undefined
        } else if (outcome) {
          lastError = outcome.error
          errorCount++
        }
        settle()
      }
      const timer = setTimeout(() => {
        finish({
          ok: false,
          error: new TimeoutError(ErrorCodes.COLLECT_TIMEOUT, `collect of "${name}"`, timeoutMs),
        })
      }, timeoutMs).unref()
      abandon = () => finish(undefined)
      // collect() runs a microtask later, so even one that throws at once settles only after every metric
      // of the scrape that started it has joined `inflight` (else each would collect again with cacheMs 0).
      Promise.resolve()
        .then(() => collect())
        .then(
          (result) => finish(normalize(result, labelNames)),
          (error: unknown) => finish({ ok: false, error }),
        )
    })
    return inflight
  }
  // Every metric of one scrape awaits the same collect, so the gauge, its age and its error count agree.
  const fresh = (): Promise<void> | undefined => {
    if (inflight) return inflight
    if (performance.now() - settledAt >= cacheMs) return attempt()
    return undefined
  }

  const metrics = [
    // No series before the first success: an unlabelled prom-client Gauge would export a made-up 0.
    scrapeTimeMetric(name, help, 'gauge', fresh, () => samples ?? []),
    scrapeTimeMetric(errorsName, `Collects of ${name} that failed or timed out`, 'counter', fresh, () => [
      { labels: {}, value: errorCount },
    ]),
    scrapeTimeMetric(ageName, `Seconds since ${name} was last collected successfully`, 'gauge', fresh, () => [
      { labels: {}, value: (performance.now() - goodAt) / 1000 },
    ]),
  ]
  // biome-ignore lint/suspicious/noExplicitAny: prom-client types registerMetric for its own classes only
  for (const m of metrics) registry.registerMetric(m as any)

  return {
    name,
    get lastError() {
      return lastError
    },
    refresh: attempt,
    close() {
      if (closed) return
      closed = true
      abandon?.()
      for (const [i, m] of metrics.entries()) {
        const registered = [name, errorsName, ageName][i]!
        if ((registry.getSingleMetric(registered) as unknown) === m) registry.removeSingleMetric(registered)
      }
    },
  }
}

type Sample = { labels: Record<string, string>; value: number }

/**
 * A metric in the shape prom-client's Registry serialises, with values computed at scrape time after
 * `ready` (the shared collect) settles.
 */
function scrapeTimeMetric(
  name: string,
  help: string,
  type: 'gauge' | 'counter',
  ready: () => Promise<void> | undefined,
  values: () => readonly Sample[],
) {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    async get() {
      await ready()
      // metric.name, not name: for OpenMetrics output the Registry strips a counter's `_total` in place.
      return { name: metric.name, help, type, aggregator: 'sum' as const, values: values() }
    },
    reset() {},
  }
  return metric
}

/** Checks what collect() returned; a malformed result counts as a failed collect, never breaks a scrape. */
function normalize(result: unknown, labelNames: readonly string[]): Outcome {
  const fail = (why: string): Outcome => ({ ok: false, error: new TypeError(`collect returned ${why}`) })
  if (typeof result === 'number') {
    if (labelNames.length > 0) return fail('a number, but labelNames are set: return [{ labels, value }]')
    if (!Number.isFinite(result)) return fail('a non-finite number')
    return { ok: true, samples: [{ labels: {}, value: result }] }
  }
  if (!Array.isArray(result)) return fail('neither a number nor an array of { labels, value }')
  const samples: Sample[] = []
  // Two samples with one label set would be a duplicate series, and Prometheus rejects the whole scrape.
  const seen = new Set<string>()
  for (const item of result as unknown[]) {
    const { labels = {}, value } = (item ?? {}) as { labels?: Record<string, unknown>; value?: unknown }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return fail('a sample whose value is not a finite number')
    }
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(labels)) {
      if (!labelNames.includes(k)) return fail(`a sample with label "${k}", not one of labelNames`)
      if (typeof v !== 'string' && typeof v !== 'number')
        return fail(`a sample whose label "${k}" is not a string`)
      out[k] = String(v)
    }
    const key = labelNames.map((n) => out[n] ?? '').join('\u0000')
    if (seen.has(key)) return fail(`two samples with the labels ${JSON.stringify(out)}`)
    seen.add(key)
    samples.push({ labels: out, value })
  }
  return { ok: true, samples }
}
