// The first attribution test: with a small pool, the capacity run must name the pool.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCapacity, writeCapacityReport } from '../src/index.js'
import { type StandIn, startStandIn } from './support/stand-in.js'

let service: StandIn
beforeAll(async () => {
  // Two resources held 20 ms each: about 100 requests/s, whatever the CPU.
  service = await startStandIn({ STANDIN_MODE: 'pool', POOL_MAX: '2', HOLD_MS: '20' })
})
afterAll(() => service.stop())

describe('runCapacity against a pool-bound service', () => {
  it('raises the load until a threshold breaks and names the connection pool', async () => {
    const progress: string[] = []
    const result = await runCapacity({
      load: { url: service.url },
      services: [
        {
          name: 'pool-service',
          metricsUrl: service.metricsUrl,
          throughput: { metric: 'standin_requests_total', unit: 'req/s' },
        },
      ],
      startRatePerSecond: 25,
      growthFactor: 1.6,
      maxSteps: 8,
      stepDurationMs: 3000,
      settleMs: 750,
      scrapeIntervalMs: 250,
      onProgress: (line) => {
        progress.push(line)
        console.log(line)
      },
    })

    expect(result.breakingStep).not.toBeNull()
    expect(result.bottleneck).toMatchObject({
      service: 'pool-service',
      signal: 'pool',
      metric: 'db_client_connections_pending_requests',
    })
    // The pool serves about 100/s: it holds below that and breaks above it.
    expect(result.maxSustainedRatePerSecond).toBeGreaterThanOrEqual(25)
    expect(result.maxSustainedRatePerSecond).toBeLessThanOrEqual(170)
    expect(result.steps[result.breakingStep!]!.offeredRatePerSecond).toBeGreaterThan(60)
    // CPU was never the limit here.
    for (const step of result.steps) {
      const cpu = step.services[0]!.signals.find((s) => s.signal === 'cpu')
      expect(cpu?.crossed).toBe(false)
    }
    const [line] = result.services
    expect(line!.bottleneck?.signal).toBe('pool')
    expect(line!.maxSustainedRate).toBeGreaterThan(20)

    // Progress: one line when each step starts and one when it ends.
    const stepEnds = progress.filter(
      (l) => / req\/s offered → /.test(l) && !l.endsWith('running it again to confirm'),
    )
    expect(stepEnds).toHaveLength(result.steps.length)
    expect(progress.at(-1)).toMatch(/BROKEN: /)
    expect(progress.join('\n')).toMatch(/pool waiting in \d+% of scrapes!/)

    const out = await mkdtemp(join(tmpdir(), 'capacity-'))
    try {
      const written = await writeCapacityReport(result, out)
      const markdown = await readFile(written.markdownPath, 'utf8')
      expect(markdown).toContain('| service | max sustained rate | bottleneck | the metric that showed it |')
      expect(markdown).toMatch(
        /\| pool-service \| [\d.,]+ req\/s \| connection pool \(callers waiting\) \| db_client_connections_pending_requests > 0 in/,
      )
      const svg = await readFile(written.svgPath, 'utf8')
      expect(svg.match(/<polyline /g)).toHaveLength(2)
      expect(JSON.parse(await readFile(written.jsonPath, 'utf8')).bottleneck.signal).toBe('pool')
    } finally {
      await rm(out, { recursive: true, force: true })
    }
  }, 60_000)
})
