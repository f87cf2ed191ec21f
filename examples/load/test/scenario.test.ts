// The scenario's pieces: stages as k6 reads them, their steps, and the threshold logic both ways.
import { describe, expect, it } from 'vitest'
import {
  evaluateThresholds,
  formatReport,
  fullStages,
  type LoadStats,
  laptopStages,
  parseCommand,
  parseDuration,
  parseStages,
  percentile,
  planSlots,
} from '../src/index.js'

const stats = (over: Partial<LoadStats> = {}): LoadStats => ({
  requests: 1000,
  failedRequests: 0,
  orderErrors: 0,
  durationsMs: Array.from({ length: 1000 }, (_, i) => i / 10),
  statuses: { '201': 1000 },
  elapsedSeconds: 10,
  ...over,
})

describe('stages', () => {
  it('reads k6 durations', () => {
    expect([
      parseDuration('2m'),
      parseDuration('1m30s'),
      parseDuration('500ms'),
      parseDuration('20'),
    ]).toEqual([120, 90, 0.5, 20])
    expect(parseDuration('soon')).toBeNaN()
    expect(parseStages('20s:100,1m:0')).toEqual([
      { durationSeconds: 20, target: 100 },
      { durationSeconds: 60, target: 0 },
    ])
    expect(() => parseStages('20s')).toThrow('bad stage')
  })

  it('keeps the k6 script shape: --full is 2m up, 5m at 100, 1m down', () => {
    expect(fullStages).toEqual(parseStages('2m:100,5m:100,1m:0'))
    expect(laptopStages).toEqual(parseStages('20s:100,30s:100,10s:0'))
  })

  it('gives each virtual user a connection for as long as the ramp covers it', () => {
    const slots = planSlots(laptopStages, 1)
    expect(slots).toHaveLength(100)
    // The first user joins at once and stays until the very end of the ramp down; the 100th only holds.
    expect(slots[0]).toEqual({ startSeconds: 0.1, durationSeconds: expect.closeTo(59.85, 5), requests: 60 })
    expect(slots[99]).toEqual({ startSeconds: 19.9, durationSeconds: expect.closeTo(30.15, 5), requests: 30 })
    // The area under the ramp, in connection-seconds, times the rate: 100 x (10 + 30 + 5) = 4500.
    const total = (rate: number) => planSlots(laptopStages, rate).reduce((n, s) => n + s.requests, 0)
    expect(Math.abs(total(1) - 4500)).toBeLessThanOrEqual(50)
    expect(Math.abs(total(2) - 9000)).toBeLessThanOrEqual(100)
  })

  it('handles a ramp that goes up, down and up again', () => {
    const slots = planSlots(parseStages('10s:2,10s:0,10s:2'), 1)
    // Each of the two users lives twice, once per hump.
    expect(slots.map((s) => s.startSeconds)).toEqual([2.5, 7.5, 20 + 2.5, 20 + 7.5])
    expect(slots.map((s) => s.durationSeconds)).toEqual([15, 5, 7.5, 2.5])
  })
})

describe('thresholds', () => {
  it('pass on a clean run', () => {
    expect(evaluateThresholds(stats()).map((r) => r.pass)).toEqual([true, true, true])
  })

  it('fail one by one at their bounds', () => {
    const [failed] = evaluateThresholds(stats({ failedRequests: 10 }))
    expect(failed).toMatchObject({ metric: 'http_req_failed', pass: false, actual: '1%' })
    expect(evaluateThresholds(stats({ failedRequests: 9 }))[0]?.pass).toBe(true)
    const slow = stats({ durationsMs: [...Array(989).fill(10), ...Array(11).fill(900)] })
    expect(evaluateThresholds(slow).map((r) => r.pass)).toEqual([true, false, true])
    const orders = evaluateThresholds(stats({ orderErrors: 5 }))
    expect(orders.map((r) => r.pass)).toEqual([true, true, false])
    expect(evaluateThresholds(stats({ orderErrors: 4 }))[2]?.pass).toBe(true)
  })

  it('fail when nothing was measured', () => {
    const results = evaluateThresholds(stats({ requests: 0, durationsMs: [], statuses: {} }))
    expect(results.map((r) => [r.pass, r.actual])).toEqual([
      [false, 'no requests'],
      [false, 'no responses'],
      [false, 'no requests'],
    ])
  })

  it('uses the nearest-rank percentile', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3)
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(99)
  })

  it('prints one line per threshold', () => {
    const text = formatReport(
      stats({ failedRequests: 20 }),
      evaluateThresholds(stats({ failedRequests: 20 })),
    )
    expect(text).toContain('FAIL  http_req_failed rate<0.01    2% (limit 1%)')
    expect(text).toContain('PASS  order_errors rate<0.005      0% (limit 0.5%)')
  })
})

describe('command line', () => {
  it('defaults to the laptop stages against the local gateway', () => {
    const c = parseCommand([], {})
    expect(c).toMatchObject({
      help: false,
      options: {
        baseUrl: 'http://127.0.0.1:8080',
        clientId: 'demo',
        clientSecret: 'demo-secret',
        stages: laptopStages,
        ratePerConnection: 1,
        gracefulStopSeconds: 30,
      },
    })
  })

  it('--full takes the k6 timings, GATEWAY_URL wins over BASE_URL', () => {
    const c = parseCommand(['--full'], { GATEWAY_URL: 'http://gw:8080/', BASE_URL: 'http://other' })
    expect(c.help === false && c.options).toMatchObject({ stages: fullStages, baseUrl: 'http://gw:8080' })
  })

  it.each([['--rate=0'], ['--timeout=x'], ['--full', '--stages=1s:1'], ['--url=ftp://x'], ['--unknown']])(
    'refuses %s',
    (...args) => {
      expect(() => parseCommand(args, {})).toThrow()
    },
  )
})
