import { describe, expect, it } from 'vitest'
import { firstCrossed, type PromSample, readSignals, resolveThresholds, type Scrape } from '../src/index.js'

const thresholds = resolveThresholds()

/** Scrapes 500 ms apart from t=1000, each with the given metric values. */
function scrapes(values: Record<string, number>[]): Scrape[] {
  return values.map((v, i) => ({
    at: 1000 + i * 500,
    samples: Object.entries(v).map(([name, value]): PromSample => ({ name, labels: {}, value })),
  }))
}

describe('readSignals', () => {
  it('pool: crossed when callers wait in at least half the scrapes, not on one burst', () => {
    const burst = readSignals(
      scrapes([0, 3, 0, 0, 0].map((p) => ({ db_client_connections_pending_requests: p }))),
      thresholds,
    )
    expect(burst[0]).toMatchObject({ signal: 'pool', crossed: false, value: 0.2 })
    const sustained = readSignals(
      scrapes([0, 2, 5, 9, 12].map((p) => ({ db_client_connections_pending_requests: p }))),
      thresholds,
    )
    expect(sustained[0]).toMatchObject({ signal: 'pool', crossed: true, value: 0.8, firstAt: 1500 })
    expect(sustained[0]!.evidence).toBe('db_client_connections_pending_requests > 0 in 4/5 scrapes (max 12)')
  })

  it('cpu: the rate of process_cpu_seconds_total in cores', () => {
    const busy = readSignals(
      scrapes([0, 0.48, 0.96, 1.44].map((c) => ({ process_cpu_seconds_total: c }))),
      thresholds,
    )
    expect(busy[0]).toMatchObject({ signal: 'cpu', crossed: true, firstAt: 1500 })
    expect(busy[0]!.value).toBeCloseTo(0.96)
    const idle = readSignals(
      scrapes([0, 0.1, 0.2].map((c) => ({ process_cpu_seconds_total: c }))),
      thresholds,
    )
    expect(idle[0]).toMatchObject({ crossed: false, firstAt: undefined })
  })

  it('event loop: mean utilization and median p99 delay over the step', () => {
    const readings = readSignals(
      scrapes(
        [0.95, 0.97, 0.99].map((u, i) => ({
          nodejs_eventloop_utilization_ratio: u,
          nodejs_eventloop_lag_p99_seconds: [0.02, 0.5, 0.03][i]!,
        })),
      ),
      thresholds,
    )
    expect(readings.find((r) => r.signal === 'event_loop_utilization')).toMatchObject({
      crossed: true,
      firstAt: 1000,
    })
    // One long pause is not a saturated loop: the median is 30 ms.
    expect(readings.find((r) => r.signal === 'event_loop_lag')).toMatchObject({ crossed: false, value: 0.03 })
  })

  it('queue depth: crossed when it grows by the threshold and rises in most intervals', () => {
    const growing = readSignals(
      scrapes([0, 5, 12, 20, 31].map((q) => ({ queue_depth_messages: q }))),
      thresholds,
    )
    expect(growing[0]).toMatchObject({ signal: 'queue_depth', crossed: true, value: 31, firstAt: 1500 })
    const wobbling = readSignals(
      scrapes([30, 5, 40, 3, 41].map((q) => ({ queue_depth_messages: q }))),
      thresholds,
    )
    expect(wobbling[0]).toMatchObject({ crossed: false })
  })

  it('leaves out signals a service does not export and skips failed scrapes', () => {
    const list: Scrape[] = [
      ...scrapes([{ nodejs_eventloop_utilization_ratio: 0.1 }]),
      { at: 5000, samples: [], error: 'ECONNREFUSED' },
    ]
    expect(readSignals(list, thresholds).map((r) => r.signal)).toEqual(['event_loop_utilization'])
  })
})

describe('firstCrossed', () => {
  it('picks the earliest sighting, and CPU over the pool when both appear in the same scrape', () => {
    const readings = readSignals(
      scrapes(
        [
          [0, 0, 0.85],
          [0, 2, 0.95],
          [4, 3, 0.97],
          [8, 6, 0.99],
        ].map(([pending, queue, elu]) => ({
          db_client_connections_pending_requests: pending!,
          queue_depth_messages: queue! * 10,
          nodejs_eventloop_utilization_ratio: elu!,
        })),
      ),
      thresholds,
    )
    // Queue grew from the second scrape, the loop saturated at the second scrape, the pool at the third.
    expect(readings.filter((r) => r.crossed).map((r) => r.signal)).toEqual([
      'pool',
      'queue_depth',
      'event_loop_utilization',
    ])
    expect(firstCrossed(readings)?.signal).toBe('event_loop_utilization')
    expect(firstCrossed([])).toBeUndefined()
  })

  it('validates thresholds', () => {
    expect(() => resolveThresholds({ cpu: 1 })).toThrow(expect.objectContaining({ option: 'saturation.cpu' }))
    expect(() => resolveThresholds({ eventLoopUtilization: 2 })).toThrow(
      expect.objectContaining({ option: 'saturation.eventLoopUtilization' }),
    )
  })
})
