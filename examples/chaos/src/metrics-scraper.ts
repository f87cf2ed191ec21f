import { setTimeout as sleep } from 'node:timers/promises'
import { InvalidOptionError, validate } from '@goreliable/core'
import { nowMs } from './clock.js'
import { type PromSample, parsePrometheusText } from './prometheus-text.js'

/** One scrape of one service. */
export interface Scrape {
  /** When the answer arrived, epoch milliseconds. */
  at: number
  /** The samples of the families asked for; empty when the scrape failed. */
  samples: PromSample[]
  /** Why it failed: `HTTP 503`, `ECONNREFUSED`, `TIMEOUT`. */
  error?: string
}

/** A service to scrape. */
export interface ScrapeTarget {
  name: string
  /** Its Prometheus endpoint, such as `http://127.0.0.1:9464/metrics`. */
  metricsUrl: string
}

/** Options of {@link startMetricsScraper}. */
export interface MetricsScraperOptions {
  targets: readonly ScrapeTarget[]
  /** Time between the starts of two scrapes of one target. @default 500 */
  intervalMs?: number
  /** Longest wait for one scrape. @default 2000 */
  timeoutMs?: number
  /** Metric names to keep from each scrape (the rest is dropped, to keep long runs small). @default all */
  keep?: readonly string[]
}

/** Every option key of {@link startMetricsScraper}. */
export const startMetricsScraperOptionKeys = ['targets', 'intervalMs', 'timeoutMs', 'keep'] as const

/** A running scraper. */
export interface MetricsScraper {
  /** The scrapes of a target so far, oldest first; with `from`/`to`, only those that arrived within `[from, to]`. */
  scrapes(target: string, from?: number, to?: number): Scrape[]
  /** Stops scraping; resolves when the scrapes in flight have ended. */
  stop(): Promise<void>
}

/**
 * Scrapes every target's /metrics at a fixed interval until stopped, as Prometheus would, so a load step can
 * be judged by what the services reported about themselves while it ran.
 */
export function startMetricsScraper(options: MetricsScraperOptions): MetricsScraper {
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, startMetricsScraperOptionKeys)
  if (!Array.isArray(o.targets))
    throw new InvalidOptionError('targets', 'an array of { name, metricsUrl }', o.targets)
  const targets = (o.targets as ScrapeTarget[]).map((t, i) => {
    validate.requireObject(`targets[${i}]`, t)
    validate.rejectUnknownKeys(`targets[${i}]`, t as unknown as Record<string, unknown>, [
      'name',
      'metricsUrl',
    ])
    return {
      name: validate.requireString(`targets[${i}].name`, t.name),
      metricsUrl: validate.requireString(`targets[${i}].metricsUrl`, t.metricsUrl),
    }
  })
  const intervalMs = validate.optionalNumber('intervalMs', o.intervalMs, 500, { min: 10 })
  const timeoutMs = validate.optionalNumber('timeoutMs', o.timeoutMs, 2000, { min: 1 })
  const keep = o.keep === undefined ? undefined : new Set(o.keep as string[])
  const history = new Map<string, Scrape[]>(targets.map((t) => [t.name, []]))
  const controller = new AbortController()

  async function scrapeOnce(target: ScrapeTarget): Promise<Scrape> {
    try {
      const res = await fetch(target.metricsUrl, { signal: AbortSignal.timeout(timeoutMs) })
      const text = await res.text()
      if (res.status !== 200) return { at: nowMs(), samples: [], error: `HTTP ${res.status}` }
      const samples = parsePrometheusText(text)
      return { at: nowMs(), samples: keep ? samples.filter((s) => keep.has(s.name)) : samples }
    } catch (error) {
      const e = error as { name?: string; cause?: { code?: string }; message?: string }
      const reason = e.name === 'TimeoutError' ? 'TIMEOUT' : (e.cause?.code ?? e.message ?? 'ERROR')
      return { at: nowMs(), samples: [], error: reason }
    }
  }

  const loops = targets.map(async (target) => {
    const list = history.get(target.name)!
    while (!controller.signal.aborted) {
      const started = nowMs()
      list.push(await scrapeOnce(target))
      const wait = intervalMs - (nowMs() - started)
      if (wait > 0) await sleep(wait, undefined, { signal: controller.signal }).catch(() => {})
    }
  })

  return {
    scrapes(target, from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY) {
      const list = history.get(target)
      if (!list)
        throw new InvalidOptionError('target', `one of ${targets.map((t) => t.name).join(', ')}`, target)
      return list.filter((s) => s.at >= from && s.at <= to)
    },
    async stop() {
      controller.abort()
      await Promise.all(loops)
    },
  }
}
