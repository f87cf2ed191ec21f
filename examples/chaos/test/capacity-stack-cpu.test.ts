// The second attribution test against the real example stack: with a CPU-heavy handler in the
// order service (`--cpu-heavy`: every API request burns CPU on its event loop, preloaded through
// NODE_OPTIONS without changing the service), `npm run capacity` must name CPU or the event loop.
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { withCapacityRun } from './support/capacity-run.js'
import { stackPrerequisites } from './support/stack-prerequisites.js'

const databaseUrl = await stackPrerequisites()

describe.skipIf(!databaseUrl)('npm run capacity -- --cpu-heavy', () => {
  it("names the order service's CPU or event loop as the bottleneck, not its pool", async () => {
    await withCapacityRun(
      { databaseUrl: databaseUrl!, flags: ['--cpu-heavy', '--cpu-ms', '10'], maxSteps: 9 },
      async (run) => {
        const { exitCode, result, written, log } = run
        expect(exitCode, log).toBe(0)
        expect(result!.breakingStep, log).not.toBeNull()
        expect(result!.bottleneck?.service, log).toBe('order-service')
        expect(['cpu', 'event_loop_utilization', 'event_loop_lag'], log).toContain(result!.bottleneck?.signal)
        const orderService = result!.services.find((s) => s.name === 'order-service')
        expect(orderService?.bottleneck?.signal).not.toBe('pool')
        expect(log).toMatch(/CPU-heavy \(10 ms of CPU per request\)/)

        const markdown = await readFile(written!.markdownPath, 'utf8')
        expect(markdown).toMatch(
          /\| order-service \| .+ \| (CPU \(one core busy\)|event loop \(utilization\)|event loop \(delay\)) \| /,
        )
      },
    )
  }, 150_000)
})
