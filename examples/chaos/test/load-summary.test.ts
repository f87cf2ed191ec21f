import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  checkOnlyStatuses,
  checkRecoveredWithin,
  firstSampleAfter,
  formatStatuses,
  percentile,
  type RequestSample,
  statusHistogram,
  summarize,
  timeToRecover,
} from '../src/index.js'

/** A request sent at `at` ms that took `latencyMs` and ended with `status`. */
const s = (at: number, status: number, latencyMs = 10, error?: string): RequestSample => ({
  index: at,
  at,
  latencyMs,
  status,
  ...(error ? { error } : {}),
})

describe('summarize', () => {
  const samples = [
    s(0, 201, 10),
    s(100, 201, 20),
    s(200, 503, 5),
    s(300, 0, 1, 'ECONNRESET'),
    s(400, 0, 0, 'DROPPED'),
    s(500, 201, 30),
    s(600, 404, 8),
  ]

  it('counts statuses, error codes, errors and dropped requests; latency only over sent requests', () => {
    const all = summarize(samples)
    expect(all.requests).toBe(7)
    expect(all.statusCounts).toEqual({ '0': 2, '201': 3, '404': 1, '503': 1 })
    expect(all.errorCodes).toEqual({ ECONNRESET: 1, DROPPED: 1 })
    expect(all.errors).toBe(3) // 503 and the two status-0; a 404 is the client's error, not the service's
    expect(all.errorRate).toBeCloseTo(3 / 7)
    expect(all.dropped).toBe(1)
    expect(all.maxMs).toBe(30)
    expect(all.p50Ms).toBe(8) // of 1, 5, 8, 10, 20, 30: the dropped request has no latency
    expect(statusHistogram(samples)).toEqual(all.statusCounts)
    expect(formatStatuses(all.statusCounts)).toBe('201×3, 0×2, 404×1, 503×1')
  })

  it('selects a window by sent, completed or overlapping time', () => {
    // [195, 305): sent are the 503 and the reset; the 201 sent at 100 ended at 120, before the window.
    expect(summarize(samples, { from: 195, to: 305 }).requests).toBe(2)
    expect(summarize(samples, { from: 115, to: 305, include: 'overlapping' }).requests).toBe(3)
    expect(summarize(samples, { from: 0, to: 120, include: 'completed' }).requests).toBe(1)
    const windowed = summarize(samples, { from: 0, to: 1000 })
    expect(windowed.durationMs).toBe(1000)
    expect(windowed.throughputPerSecond).toBe(4) // four successes (201×3 and the 404) in one second
    expect(summarize([], { from: 0, to: 10 })).toMatchObject({ requests: 0, errorRate: 0, p99Ms: undefined })
    expect(() => summarize(samples, { from: 10, to: 5 })).toThrow(expect.objectContaining({ option: 'to' }))
  })

  it('takes a custom error predicate', () => {
    const strict = summarize(samples, { isError: (x) => x.status !== 201 })
    expect(strict.errors).toBe(4)
    expect(checkOnlyStatuses(strict, [201, 503])).toMatchObject({
      pass: false,
      observed: '201×3, 0×2, 404×1, 503×1',
    })
  })
})

describe('percentile', () => {
  it('is the nearest rank, within the data, and monotonic in p', () => {
    expect(percentile([], 50)).toBeUndefined()
    expect(percentile([1, 2, 3, 4], 50)).toBe(2)
    expect(percentile([1, 2, 3, 4], 99)).toBe(4)
    expect(percentile([7], 0)).toBe(7)
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: 0, max: 1e6 }), { minLength: 1 }),
        fc.nat(100),
        (xs, p) => {
          const sorted = [...xs].sort((a, b) => a - b)
          const v = percentile(sorted, p)!
          expect(sorted).toContain(v)
          expect(v).toBeLessThanOrEqual(percentile(sorted, Math.min(100, p + 1))!)
        },
      ),
    )
  })
})

describe('timeToRecover', () => {
  it('is the time from the heal to the first request of a sustained run of successes', () => {
    const samples = [
      s(1000, 503),
      s(1100, 503),
      s(1200, 201), // a lone success: the next one fails
      s(1300, 0, 1, 'ECONNREFUSED'),
      ...Array.from({ length: 20 }, (_, i) => s(1400 + i * 100, 201)),
    ]
    expect(timeToRecover(samples, { after: 1000, sustainMs: 1000 })).toBe(400)
    expect(timeToRecover(samples, { after: 1000, sustainMs: 1000, minRequests: 15 })).toBe(400)
    // Not sustained for long enough before the samples end.
    expect(timeToRecover(samples, { after: 1000, sustainMs: 5000 })).toBeNull()
    expect(
      checkRecoveredWithin(timeToRecover(samples, { after: 1000, sustainMs: 1000 }), 15_000),
    ).toMatchObject({
      pass: true,
      observed: '0.4 s',
    })
    expect(checkRecoveredWithin(null, 15_000)).toMatchObject({
      pass: false,
      observed: 'did not recover while observed',
    })
  })

  it('is 0 when nothing failed after the heal, and ignores samples before it', () => {
    const samples = [s(0, 0, 1, 'ECONNRESET'), ...Array.from({ length: 10 }, (_, i) => s(500 + i * 100, 200))]
    expect(timeToRecover(samples, { after: 450, sustainMs: 500 })).toBe(50)
    expect(firstSampleAfter(samples, 100, (x) => x.status === 200)).toBe(400)
    expect(firstSampleAfter(samples, 100, (x) => x.status === 503)).toBeNull()
  })
})
