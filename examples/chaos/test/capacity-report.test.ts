import { describe, expect, it } from 'vitest'
import {
  type CapacityResult,
  type CapacityStep,
  capacityHeadline,
  formatCapacityMarkdown,
  niceCeil,
  parseCapacityArgs,
  renderCapacityChart,
  runCapacityCli,
} from '../src/index.js'

function step(offered: number, achieved: number, p99: number, ok: boolean, pending = 0): CapacityStep {
  return {
    offeredRatePerSecond: offered,
    achievedPerSecond: achieved,
    requests: offered * 3,
    errorRate: ok ? 0 : 0.2,
    p50Ms: p99 / 3,
    p99Ms: p99,
    withinThresholds: ok,
    breaches: ok ? [] : [`p99 ${p99} ms > 500 ms`],
    driverUtilization: 0.1,
    attempts: 1,
    services: [
      {
        name: 'order-service',
        throughput: achieved * 60,
        failedScrapes: 0,
        signals: [
          {
            signal: 'pool',
            metric: 'db_client_connections_pending_requests',
            crossed: pending > 0.5,
            value: pending,
            firstAt: pending ? 1 : undefined,
            evidence: `db_client_connections_pending_requests > 0 in ${Math.round(pending * 10)}/10 scrapes (max 7)`,
          },
        ],
      },
      { name: 'gateway & <edge>', throughput: undefined, failedScrapes: 1, signals: [] },
    ],
  }
}

const result: CapacityResult = {
  steps: [
    step(10, 10, 20, true),
    step(15, 15, 40, true),
    step(23, 22.5, 180, true, 0.8),
    step(35, 24, 900, false, 1),
  ],
  maxSustainedRatePerSecond: 23,
  breakingStep: 3,
  services: [
    {
      name: 'order-service',
      maxSustainedRate: 1350,
      unit: 'orders/min',
      bottleneck: {
        service: 'order-service',
        signal: 'pool',
        metric: 'db_client_connections_pending_requests',
        evidence: 'db_client_connections_pending_requests > 0 in 8/10 scrapes (max 7)',
        offeredRatePerSecond: 23,
      },
    },
    { name: 'gateway & <edge>', maxSustainedRate: 22.5, unit: 'req/s', bottleneck: null },
  ],
  bottleneck: {
    service: 'order-service',
    signal: 'pool',
    metric: 'db_client_connections_pending_requests',
    evidence: 'db_client_connections_pending_requests > 0 in 8/10 scrapes (max 7)',
    offeredRatePerSecond: 23,
  },
  thresholds: { p99Ms: 500, errorRate: 0.01 },
}

describe('capacity report', () => {
  it('states where it broke and why, and tabulates each service', () => {
    expect(capacityHeadline(result)).toBe(
      'Broke at 35 req/s offered: p99 900 ms > 500 ms. Max sustained: 23 req/s offered. Bottleneck: order-service, connection pool (callers waiting) (db_client_connections_pending_requests > 0 in 8/10 scrapes (max 7), first at 23 req/s).',
    )
    const md = formatCapacityMarkdown(result)
    expect(md).toContain(
      '| order-service | 1,350 orders/min | connection pool (callers waiting) | db_client_connections_pending_requests > 0 in 8/10 scrapes (max 7) at 23 req/s |',
    )
    expect(md).toContain('| gateway & <edge> | 22.5 req/s | none seen | – |')
    expect(md).toContain('![throughput and p99 against offered load](capacity-chart.svg)')
    expect(md).toContain('| 35 | 24.0 | 300 ms | 900 ms | 20% |')
  })

  it('draws throughput and p99 as two lines on two axes, with the threshold and the maximum marked', () => {
    const svg = renderCapacityChart(result)
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
    expect(svg.match(/<polyline data-series="throughput"[^>]*points="([^"]+)"/)![1]!.split(' ')).toHaveLength(
      4,
    )
    expect(svg.match(/<polyline data-series="p99"[^>]*points="([^"]+)"/)![1]!.split(' ')).toHaveLength(4)
    for (const label of [
      'offered load (requests/s)',
      'throughput (successful requests/s)',
      'p99 latency (ms)',
    ]) {
      expect(svg).toContain(`>${label}</text>`)
    }
    expect(svg).toContain('p99 threshold 500 ms')
    expect(svg).toContain('max sustained 23 req/s')
    // Every tag is closed: a crude well-formedness check without an XML parser.
    const opened = svg.match(/<(svg|text|title)\b/g)!.length
    expect(svg.match(/<\/(svg|text|title)>/g)!.length).toBe(opened)
    expect(niceCeil(0)).toBe(1)
    expect(niceCeil(37)).toBe(50)
    expect(niceCeil(120)).toBe(200)
    expect(niceCeil(0.3)).toBe(0.5)
  })

  it('parses the command line, and exits 2 on a bad value without sending anything', async () => {
    expect(parseCapacityArgs(['--start-rate', '5', '--step-seconds', '2'])).toMatchObject({
      outDir: '.chaos-out',
      startRatePerSecond: 5,
      stepSeconds: 2,
    })
    expect(() => parseCapacityArgs(['--growth', 'fast'])).toThrow(
      expect.objectContaining({ code: 'GR_ERR_CHAOS_BAD_ARGUMENT' }),
    )
    const printed: string[] = []
    const run = (argv: string[]) =>
      runCapacityCli({
        load: { url: 'http://127.0.0.1:9/' },
        services: [{ name: 's', metricsUrl: 'http://127.0.0.1:9/metrics' }],
        argv,
        print: (l) => printed.push(l),
      })
    expect((await run(['--nope'])).exitCode).toBe(2)
    expect((await run(['--start-rate', '50', '--max-rate', '10'])).exitCode).toBe(2)
    expect(printed.at(-1)).toMatch(/^GR_ERR_CHAOS_BAD_ARGUMENT: Invalid option "maxRatePerSecond"/)
    expect((await run(['--help'])).exitCode).toBe(0)
    expect(printed.at(-1)).toContain('Usage: npm run capacity')
  })
})
