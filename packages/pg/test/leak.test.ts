import { describe, expect, it } from 'vitest'
import type { LeakReport } from '../src/index.js'
import { streamQuery, withClient } from '../src/index.js'
import { databaseUrl, sample, sleep, testPool, until } from './helpers.js'

function recorder() {
  const leaks: LeakReport[] = []
  const warnings: Array<{ obj: Record<string, unknown>; msg: string | undefined }> = []
  return {
    leaks,
    warnings,
    options: {
      leakDetectionMs: 200,
      onLeak: (report: LeakReport) => leaks.push(report),
      logger: {
        warn: (obj: object, msg?: string) => warnings.push({ obj: obj as Record<string, unknown>, msg }),
      },
    },
  }
}

describe.skipIf(!databaseUrl)('leak detection', () => {
  it('reports a client never released once, with the stack of the code that took it', async () => {
    const r = recorder()
    const { pool, registry, applicationName: name } = testPool({ max: 2 }, r.options)
    const client = await pool.connect()
    try {
      await until(() => r.leaks.length > 0)
      // Several sweeps later it is still one report.
      await sleep(600)
      expect(r.leaks).toHaveLength(1)
      const [leak] = r.leaks
      expect(leak!.poolName).toBe(name)
      expect(leak!.heldMs).toBeGreaterThanOrEqual(200)
      expect(leak!.stack).toContain('leak.test.ts')
      expect(r.warnings).toHaveLength(1)
      expect(r.warnings[0]!.obj).toMatchObject({ pool_name: name, stack: leak!.stack })
      expect(r.warnings[0]!.msg).toContain('held for more than 200 ms')
      expect(sample(await registry.metrics(), 'db_client_connections_leaks_total', { pool_name: name })).toBe(
        1,
      )
    } finally {
      client.release()
      await pool.end()
    }
  })

  it('names the caller of withClient and streamQuery, and the operation a pool.query was running', async () => {
    const r = recorder()
    const { pool } = testPool({ max: 3 }, r.options)
    try {
      await Promise.all([
        withClient(pool, () => sleep(500)),
        (async () => {
          for await (const _ of streamQuery(pool, 'SELECT 1')) await sleep(500)
        })(),
        pool.query({ name: 'slow_report', text: 'SELECT pg_sleep(0.5)' }),
      ])
      expect(r.leaks).toHaveLength(3)
      const withStack = r.leaks.filter((l) => l.stack?.includes('leak.test.ts'))
      expect(withStack).toHaveLength(2)
      // pool.query's loans are pg's own: no stack is captured for them, the operation names the holder.
      expect(r.leaks.find((l) => l.stack === undefined)).toMatchObject({ operation: 'slow_report' })
    } finally {
      await pool.end()
    }
  })

  it('does not report a client released in time, nor anything when turned off', async () => {
    const r = recorder()
    const { pool } = testPool({ max: 1 }, r.options)
    const off = recorder()
    const { pool: quiet } = testPool({ max: 1 }, { ...off.options, leakDetectionMs: 0 })
    try {
      await withClient(pool, () => sleep(50))
      const held = await quiet.connect()
      await sleep(500)
      held.release()
      expect(r.leaks).toEqual([])
      expect(off.leaks).toEqual([])
    } finally {
      await Promise.all([pool.end(), quiet.end()])
    }
  })

  it('survives an onLeak that throws, and logs it', async () => {
    const warnings: string[] = []
    const {
      pool,
      registry,
      applicationName: name,
    } = testPool(
      { max: 2 },
      {
        leakDetectionMs: 100,
        onLeak: () => {
          throw new Error('bad callback')
        },
        logger: { warn: (_obj, msg) => warnings.push(msg ?? '') },
      },
    )
    const a = await pool.connect()
    const b = await pool.connect()
    try {
      await until(
        async () =>
          sample(await registry.metrics(), 'db_client_connections_leaks_total', { pool_name: name }) === 2,
      )
      expect(warnings.filter((m) => m === 'onLeak threw')).toHaveLength(2)
    } finally {
      a.release()
      b.release()
      await pool.end()
    }
  })
})
