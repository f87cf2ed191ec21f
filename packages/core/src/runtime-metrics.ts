import { createRequire } from 'node:module'
import { type EventLoopUtilization, performance } from 'node:perf_hooks'
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client'
import { InvalidOptionError } from './errors.js'
import { registerOnce } from './metric-family.js'
import {
  optionalNumber,
  rejectUnknownKeys,
  requireObject,
  requireRegistry,
  requireString,
} from './options.js'

/** Options of {@link registerRuntimeMetrics}. They apply on the first call for a registry only. */
export interface RuntimeMetricsOptions {
  /**
   * Sampling resolution of prom-client's event-loop delay monitor (`nodejs_eventloop_lag_*_seconds`), in
   * milliseconds.
   * @default 10
   */
  eventLoopMonitoringPrecisionMs?: number
}

/** The keys {@link registerRuntimeMetrics} accepts; the docs test checks each one is documented. */
export const registerRuntimeMetricsOptionKeys = ['eventLoopMonitoringPrecisionMs'] as const

const ELU_METRIC = 'nodejs_eventloop_utilization_ratio'
const BUILD_INFO_METRIC = 'goreliable_build_info'
/** One of the metrics `collectDefaultMetrics` registers: present means the defaults are already there. */
const DEFAULT_METRICS_MARKER = 'process_cpu_user_seconds_total'
/**
 * The build-info series live on the gauge itself under a process-wide symbol, so two copies of
 * @goreliable/core (a duplicate install) that share one registry add to one set instead of replacing it.
 */
const kBuildInfo = Symbol.for('goreliable.buildInfo')

type BuildInfoGauge = Gauge<'package' | 'version'> & { [kBuildInfo]?: Map<string, Set<string>> }

/**
 * Registers the process's runtime metrics into `registry`: prom-client's default metrics (CPU, memory, heap
 * spaces, GC, handles, `nodejs_eventloop_lag_*_seconds`, ...), `nodejs_eventloop_utilization_ratio`, and
 * `goreliable_build_info` for @goreliable/core.
 *
 * Idempotent per registry: a second call (a second plugin instance, a test that registers twice) changes
 * nothing and never throws, and neither does a call into a registry where the application already ran
 * `collectDefaultMetrics` itself. The reverse order does throw, in prom-client: call this instead of
 * `collectDefaultMetrics`.
 *
 * `nodejs_eventloop_utilization_ratio` is the share of time the event loop spent running code rather than
 * waiting, between two scrapes (0 to 1). It complements the lag gauges: lag says how late timers fire, and
 * stays low on a loop that is 95% busy with short tasks; utilization says how close the loop is to saturation.
 * Both are measured between scrapes, so two Prometheus servers scraping one process each see shorter windows.
 */
export function registerRuntimeMetrics(registry: Registry, options: RuntimeMetricsOptions = {}): void {
  requireRegistry('registry', registry)
  const o = requireObject('options', options)
  rejectUnknownKeys('', o, registerRuntimeMetricsOptionKeys)
  const precisionMs = optionalNumber('eventLoopMonitoringPrecisionMs', o.eventLoopMonitoringPrecisionMs, 10, {
    min: 1,
    integer: true,
  })

  if (registry.getSingleMetric(DEFAULT_METRICS_MARKER) === undefined) {
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: precisionMs })
  }
  registerOnce(registry, ELU_METRIC, createUtilizationGauge)
  registerBuildInfo(registry, '@goreliable/core', coreVersion())
}

/**
 * Adds the series `goreliable_build_info{package,version} 1` to `registry`. Each @goreliable package calls it
 * with its own name and version when it registers; calling it again with the same pair changes nothing. Two
 * versions of one package in one process (a duplicate install) show as two series.
 */
export function registerBuildInfo(registry: Registry, packageName: string, version: string): void {
  requireRegistry('registry', registry)
  requireString('packageName', packageName)
  requireString('version', version)
  const gauge = registerOnce(registry, BUILD_INFO_METRIC, createBuildInfoGauge) as BuildInfoGauge
  const packages = gauge[kBuildInfo]
  if (packages === undefined) {
    throw new InvalidOptionError('registry', `a registry whose "${BUILD_INFO_METRIC}" is @goreliable's gauge`)
  }
  let versions = packages.get(packageName)
  if (versions === undefined) {
    versions = new Set()
    packages.set(packageName, versions)
  }
  versions.add(version)
}

function createUtilizationGauge(): Gauge {
  let previous: EventLoopUtilization = performance.eventLoopUtilization()
  let last = 0
  return new Gauge({
    name: ELU_METRIC,
    help: 'Share of time the event loop was busy (0 to 1) since the previous scrape.',
    registers: [],
    collect() {
      const now = performance.eventLoopUtilization()
      const delta = performance.eventLoopUtilization(now, previous)
      previous = now
      // Two scrapes within one tick measure nothing: keep the last value rather than report an idle loop.
      if (delta.idle + delta.active > 0) last = delta.utilization
      this.set(last)
    },
  })
}

function createBuildInfoGauge(): Gauge {
  const packages = new Map<string, Set<string>>()
  const gauge: BuildInfoGauge = new Gauge({
    name: BUILD_INFO_METRIC,
    help: 'Always 1; labels name each @goreliable package loaded and its version.',
    labelNames: ['package', 'version'] as const,
    registers: [],
    collect() {
      // Set at scrape time, so `registry.resetMetrics()` cannot erase what packages are loaded.
      for (const [name, versions] of packages) {
        for (const version of versions) this.set({ package: name, version }, 1)
      }
    },
  })
  Object.defineProperty(gauge, kBuildInfo, { value: packages })
  return gauge
}

let cachedCoreVersion: string | undefined

/** Read at run time, from src in tests and from dist once built: package.json sits one level up in both. */
function coreVersion(): string {
  cachedCoreVersion ??= (createRequire(import.meta.url)('../package.json') as { version: string }).version
  return cachedCoreVersion
}
