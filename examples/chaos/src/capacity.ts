import { performance } from 'node:perf_hooks'
import { formatMs, formatPercent, progressLine } from './capacity-format.js'
import {
  type CapacityOptions,
  type CapacityThroughput,
  type ResolvedCapacityOptions,
  resolveCapacityOptions,
} from './capacity-options.js'
import { nowMs } from './clock.js'
import { runLoad } from './load-driver.js'
import { summarize } from './load-summary.js'
import { type MetricsScraper, type Scrape, startMetricsScraper } from './metrics-scraper.js'
import { sumSeries } from './prometheus-text.js'
import {
  firstCrossed,
  readSignals,
  type SaturationSignal,
  SIGNAL_METRICS,
  type SignalReading,
} from './saturation.js'

/** One service during one step. */
export interface CapacityServiceStep {
  name: string
  signals: SignalReading[]
  /** Its throughput counter's rate, in its unit; undefined without a counter. */
  throughput: number | undefined
  /** Scrapes that failed during the step. */
  failedScrapes: number
}

/** One load step. */
export interface CapacityStep {
  offeredRatePerSecond: number
  /** Successful answers per second in the judged part of the step. */
  achievedPerSecond: number
  requests: number
  errorRate: number
  p50Ms: number | undefined
  p99Ms: number | undefined
  withinThresholds: boolean
  /** Why it broke: `p99 812 ms > 500 ms`. */
  breaches: string[]
  /** The load driver's own event-loop utilization: above 0.9 the driver, not the service, may be the limit. */
  driverUtilization: number
  /** 2 when the step broke once and was run again to confirm (this is the second run). */
  attempts: number
  services: CapacityServiceStep[]
}

/** The first saturation signal one service showed. */
export interface Bottleneck {
  service: string
  signal: SaturationSignal | 'load_driver'
  metric: string
  evidence: string
  /** The offered rate of the step where it was first seen. */
  offeredRatePerSecond: number
}

/** A service's line in the capacity profile. */
export interface CapacityServiceResult {
  name: string
  /** Its throughput at the last step within the thresholds; null when the first step already broke. */
  maxSustainedRate: number | null
  unit: string
  bottleneck: Bottleneck | null
}

/** The capacity profile. */
export interface CapacityResult {
  steps: CapacityStep[]
  /** The highest offered rate within the thresholds; null when the first step already broke them. */
  maxSustainedRatePerSecond: number | null
  /** Index into `steps` of the step that broke a threshold; null when none did up to `maxRatePerSecond`. */
  breakingStep: number | null
  services: CapacityServiceResult[]
  /** The signal that crossed first across all services, or the load driver when only it was saturated. */
  bottleneck: Bottleneck | null
  thresholds: { p99Ms: number; errorRate: number }
}

/**
 * Raises the offered load in steps until the p99 latency or the error rate breaks its threshold, scraping
 * every service's /metrics meanwhile, and names the bottleneck: the saturation signal (pool waiting
 * requests, CPU, event-loop utilization or delay, queue depth) that crossed first. Bounded by `maxSteps` and
 * `maxRatePerSecond`; it always ends by itself.
 */
export async function runCapacity(options: CapacityOptions): Promise<CapacityResult> {
  const o = resolveCapacityOptions(options)
  const keep = [
    ...Object.values(SIGNAL_METRICS),
    ...o.services.flatMap((s) => (s.throughput ? [s.throughput.metric] : [])),
  ]
  const targets = o.services.map((s) => ({ name: s.name, metricsUrl: s.metricsUrl }))
  const scraper = startMetricsScraper({ targets, intervalMs: o.scrapeIntervalMs, keep })
  const steps: CapacityStep[] = []
  let breakingStep: number | null = null
  try {
    if (o.warmupMs > 0) {
      o.onProgress(
        `warm-up: ${o.startRatePerSecond} req/s for ${(o.warmupMs / 1000).toFixed(0)} s (not judged)`,
      )
      await runLoad({
        timeoutMs: 2000,
        ...o.load,
        ratePerSecond: o.startRatePerSecond,
        durationMs: o.warmupMs,
      })
    }
    for (const [index, rate] of rates(o).entries()) {
      o.onProgress(`step ${index + 1}: offering ${rate} req/s for ${(o.stepDurationMs / 1000).toFixed(0)} s`)
      let step = await runStep(o, scraper, rate)
      if (!step.withinThresholds && o.confirmBreak) {
        o.onProgress(`${progressLine(index, step)}; running it again to confirm`)
        step = { ...(await runStep(o, scraper, rate)), attempts: 2 }
      }
      steps.push(step)
      o.onProgress(progressLine(index, step))
      if (!step.withinThresholds) {
        breakingStep = index
        break
      }
    }
  } finally {
    await scraper.stop()
  }
  return conclude(o, steps, breakingStep)
}

async function runStep(
  o: ResolvedCapacityOptions,
  scraper: MetricsScraper,
  rate: number,
): Promise<CapacityStep> {
  const elu = performance.eventLoopUtilization()
  const startedAt = nowMs()
  const result = await runLoad({
    timeoutMs: 2000,
    ...o.load,
    ratePerSecond: rate,
    durationMs: o.stepDurationMs,
  })
  const driverUtilization = performance.eventLoopUtilization(elu).utilization
  const from = startedAt + o.settleMs
  const summary = summarize(result.samples, {
    from,
    to: startedAt + o.stepDurationMs,
    ...(o.isError ? { isError: o.isError } : {}),
  })
  const breaches: string[] = []
  if (summary.requests === 0) breaches.push('no request was sent')
  if ((summary.p99Ms ?? 0) > o.p99ThresholdMs)
    breaches.push(`p99 ${formatMs(summary.p99Ms)} > ${o.p99ThresholdMs} ms`)
  if (summary.errorRate > o.errorRateThreshold) {
    breaches.push(`errors ${formatPercent(summary.errorRate)} > ${formatPercent(o.errorRateThreshold)}`)
  }
  const services = o.services.map((service) => {
    // The step's effect lasts until its last request ended, past the end of sending when requests queue.
    const scrapes = scraper.scrapes(service.name, from, result.endedAt)
    return {
      name: service.name,
      signals: readSignals(scrapes, o.saturation),
      throughput: service.throughput ? counterRate(scrapes, service.throughput) : undefined,
      failedScrapes: scrapes.filter((s) => s.error).length,
    }
  })
  return {
    offeredRatePerSecond: rate,
    achievedPerSecond: summary.throughputPerSecond,
    requests: summary.requests,
    errorRate: summary.errorRate,
    p50Ms: summary.p50Ms,
    p99Ms: summary.p99Ms,
    withinThresholds: breaches.length === 0,
    breaches,
    driverUtilization,
    attempts: 1,
    services,
  }
}

function conclude(
  o: ResolvedCapacityOptions,
  steps: CapacityStep[],
  breakingStep: number | null,
): CapacityResult {
  const lastGood = [...steps].reverse().find((s) => s.withinThresholds)
  const firsts = o.services.map((service, si) => {
    for (const [stepIndex, step] of steps.entries()) {
      const first = firstCrossed(step.services[si]!.signals)
      if (first) {
        const bottleneck: Bottleneck = {
          service: service.name,
          signal: first.signal,
          metric: first.metric,
          evidence: first.evidence,
          offeredRatePerSecond: step.offeredRatePerSecond,
        }
        return { bottleneck, stepIndex, at: first.firstAt ?? Number.POSITIVE_INFINITY }
      }
    }
    return undefined
  })
  const services: CapacityServiceResult[] = o.services.map((service, si) => {
    const t = service.throughput
    const unit = t ? (t.unit ?? (t.perMinute ? '/min' : 'req/s')) : 'req/s'
    const maxSustainedRate = !lastGood
      ? null
      : t
        ? (lastGood.services[si]!.throughput ?? null)
        : lastGood.achievedPerSecond
    return { name: service.name, maxSustainedRate, unit, bottleneck: firsts[si]?.bottleneck ?? null }
  })
  // Across services: the earliest step, then the earliest first sighting within it.
  const ranked = firsts
    .filter((f) => f !== undefined)
    .sort((a, b) => a.stepIndex - b.stepIndex || a.at - b.at)
  let bottleneck: Bottleneck | null = ranked[0]?.bottleneck ?? null
  const last = steps.at(-1)
  if (!bottleneck && last && last.driverUtilization >= o.saturation.eventLoopUtilization) {
    bottleneck = {
      service: 'load driver',
      signal: 'load_driver',
      metric: 'eventLoopUtilization() of the driver',
      evidence: `the driver's event loop was ${formatPercent(last.driverUtilization)} busy`,
      offeredRatePerSecond: last.offeredRatePerSecond,
    }
  }
  return {
    steps,
    maxSustainedRatePerSecond: lastGood?.offeredRatePerSecond ?? null,
    breakingStep,
    services,
    bottleneck,
    thresholds: { p99Ms: o.p99ThresholdMs, errorRate: o.errorRateThreshold },
  }
}

function rates(o: ResolvedCapacityOptions): number[] {
  const list: number[] = []
  let rate = o.startRatePerSecond
  while (list.length < o.maxSteps) {
    list.push(Math.min(rate, o.maxRatePerSecond))
    if (rate >= o.maxRatePerSecond) break
    rate = Math.max(rate + 1, Math.round(rate * o.growthFactor))
  }
  return list
}

/** The rate of a counter between the first and last good scrape, per second or per minute. */
function counterRate(scrapes: Scrape[], t: CapacityThroughput): number | undefined {
  const points = scrapes.flatMap((s) => {
    const v = s.error ? undefined : sumSeries(s.samples, t.metric, t.labels)
    return v === undefined ? [] : [{ at: s.at, v }]
  })
  if (points.length < 2) return undefined
  const seconds = (points.at(-1)!.at - points[0]!.at) / 1000
  if (seconds <= 0) return undefined
  const perSecond = Math.max(0, points.at(-1)!.v - points[0]!.v) / seconds
  return t.perMinute ? perSecond * 60 : perSecond
}
