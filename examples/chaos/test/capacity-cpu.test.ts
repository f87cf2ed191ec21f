// The second attribution test, through the `capacity` command itself: with a CPU-heavy handler the
// run must name CPU or the event loop, not the pool (which this service has, idle).
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCapacityCli } from '../src/index.js'
import { type StandIn, startStandIn } from './support/stand-in.js'

let service: StandIn
beforeAll(async () => {
  // 8 ms of CPU per request: about 120 requests/s on a free core.
  service = await startStandIn({ STANDIN_MODE: 'cpu', CPU_MS: '8' })
})
afterAll(() => service.stop())

describe('capacity command against a CPU-bound service', () => {
  it('names the CPU or the event loop as the bottleneck and writes the profile', async () => {
    const out = await mkdtemp(join(tmpdir(), 'capacity-cli-'))
    const printed: string[] = []
    try {
      const { exitCode, result, written } = await runCapacityCli({
        load: { url: service.url },
        services: [{ name: 'cpu-service', metricsUrl: service.metricsUrl }],
        defaults: { settleMs: 750, scrapeIntervalMs: 250 },
        argv: [
          '--out',
          out,
          '--start-rate',
          '25',
          '--growth',
          '1.6',
          '--step-seconds',
          '3',
          '--max-steps',
          '8',
        ],
        print: (line) => {
          printed.push(line)
          console.log(line)
        },
      })
      expect(exitCode).toBe(0)
      expect(result!.breakingStep, printed.join('\n')).not.toBeNull()
      expect(result!.bottleneck?.service, printed.join('\n')).toBe('cpu-service')
      expect(['cpu', 'event_loop_utilization', 'event_loop_lag']).toContain(result!.bottleneck?.signal)
      for (const step of result!.steps) {
        expect(step.services[0]!.signals.find((s) => s.signal === 'pool')?.crossed).toBe(false)
      }
      // About 120/s on a free core; far less when other processes share the machine's two cores.
      expect(result!.maxSustainedRatePerSecond ?? 0).toBeLessThanOrEqual(170)

      expect(printed.filter((l) => l.startsWith('[capacity] step 1: '))).not.toHaveLength(0)
      expect(printed.join('\n')).toMatch(/Bottleneck: cpu-service, (CPU|event loop)/)
      const markdown = await readFile(written!.markdownPath, 'utf8')
      expect(markdown).toMatch(
        /\| cpu-service \| .+ \| (CPU \(one core busy\)|event loop \(utilization\)|event loop \(delay\)) \| /,
      )
      expect(await readFile(written!.svgPath, 'utf8')).toContain('<svg ')
    } finally {
      await rm(out, { recursive: true, force: true })
    }
  }, 60_000)
})
