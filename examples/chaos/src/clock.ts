import { performance } from 'node:perf_hooks'

/**
 * Wall-clock milliseconds since the epoch, with sub-millisecond resolution and without the jumps of
 * `Date.now()` when the system clock is adjusted. Every timestamp of this package (request samples, fault
 * windows, scrapes) comes from here, so they can be compared with one another.
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now()
}
