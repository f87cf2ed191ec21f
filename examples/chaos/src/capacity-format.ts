// Words and numbers for the capacity stepper's progress lines and report.

import type { CapacityStep } from './capacity.js'
import type { SaturationSignal, SignalReading } from './saturation.js'

/** How each signal is named for people. */
export const SIGNAL_LABELS: Readonly<Record<SaturationSignal | 'load_driver', string>> = {
  pool: 'connection pool (callers waiting)',
  queue_depth: 'queue depth (growing)',
  cpu: 'CPU (one core busy)',
  event_loop_utilization: 'event loop (utilization)',
  event_loop_lag: 'event loop (delay)',
  load_driver: 'the load driver itself',
}

/** `812 ms`, or `n/a`. */
export function formatMs(v: number | undefined): string {
  return v === undefined ? 'n/a' : `${v.toFixed(0)} ms`
}

/** `0.4%`, `12%`. */
export function formatPercent(v: number): string {
  return `${(v * 100).toFixed(v < 0.1 ? 1 : 0)}%`
}

/** A reading's value in its threshold's unit. */
export function formatReading(r: SignalReading): string {
  switch (r.signal) {
    case 'pool':
      return `waiting in ${formatPercent(r.value)} of scrapes`
    case 'queue_depth':
      // The change over the step: a draining queue reads -16, a growing one +16.
      return r.value > 0 ? `+${r.value}` : String(r.value)
    case 'cpu':
      return `${r.value.toFixed(2)} cores`
    case 'event_loop_utilization':
      return r.value.toFixed(2)
    case 'event_loop_lag':
      return `${(r.value * 1000).toFixed(0)} ms`
  }
}

/** The line printed when a step ends. Crossed signals are marked with `!`. */
export function progressLine(index: number, s: CapacityStep): string {
  const parts = s.services.map((svc) => {
    const shown = svc.signals.map((r) => `${r.signal} ${formatReading(r)}${r.crossed ? '!' : ''}`).join(', ')
    return `${svc.name}: ${shown || 'no signals'}${svc.failedScrapes ? ` (${svc.failedScrapes} failed scrapes)` : ''}`
  })
  const driver = s.driverUtilization >= 0.9 ? ` | load driver ${formatPercent(s.driverUtilization)} busy` : ''
  return (
    `step ${index + 1}: ${s.offeredRatePerSecond} req/s offered → ${s.achievedPerSecond.toFixed(1)} ok/s, ` +
    `p99 ${formatMs(s.p99Ms)}, errors ${formatPercent(s.errorRate)} | ${parts.join(' | ')}${driver} | ` +
    (s.withinThresholds ? 'within thresholds' : `BROKEN: ${s.breaches.join(', ')}`)
  )
}
