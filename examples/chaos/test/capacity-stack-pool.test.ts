// The first attribution test against the real example stack: `npm run capacity -- --pool-max 1`
// must name the order service's connection pool as the bottleneck. The order service is the real one;
// only its DATABASE_POOL_MAX is small. (With 2 connections, a local PostgreSQL still serves over 400 orders/s:
// the pool is named first, but the run may reach the other limits before it breaks.)
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { withCapacityRun } from './support/capacity-run.js'
import { stackPrerequisites } from './support/stack-prerequisites.js'

const databaseUrl = await stackPrerequisites()

describe.skipIf(!databaseUrl)('npm run capacity -- --pool-max 1', () => {
  it('names the connection pool of the order service as the bottleneck', async () => {
    await withCapacityRun(
      { databaseUrl: databaseUrl!, flags: ['--pool-max', '1'], maxSteps: 12 },
      async (run) => {
        const { exitCode, result, written, log } = run
        expect(exitCode, log).toBe(0)
        expect(result!.breakingStep, log).not.toBeNull()
        expect(result!.bottleneck, log).toMatchObject({
          service: 'order-service',
          signal: 'pool',
          metric: 'db_client_connections_pending_requests',
        })
        expect(result!.services.map((s) => s.name)).toEqual([
          'gateway',
          'order-service',
          'notification-worker',
        ])
        expect(result!.services.map((s) => s.unit)).toEqual([
          'req/s',
          'orders/min',
          'messages/s per instance',
        ])
        expect(log).toMatch(/\[capacity\] order service: DATABASE_POOL_MAX=1/)
        expect(log).toMatch(/\[capacity\] step 1: /)

        const markdown = await readFile(written!.markdownPath, 'utf8')
        expect(markdown).toContain(
          '| service | max sustained rate | bottleneck | the metric that showed it |',
        )
        expect(markdown).toMatch(
          /\| order-service \| .+ \| connection pool \(callers waiting\) \| db_client_connections_pending_requests > 0 in/,
        )
        const svg = await readFile(written!.svgPath, 'utf8')
        expect(svg).toContain('<svg ')
      },
    )
  }, 150_000)
})
