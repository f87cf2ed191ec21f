// With a host (app.goreliable of @goreliable/fastify, or one built from core), one call wires the pool's
// metrics, a readiness check and a shutdown closer.
import { createServer } from 'node:net'
import { createHealth, createShutdown, type GoreliableHost, type ShutdownResult } from '@goreliable/core'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createPool, pgCloser, pgHealthCheck } from '../src/index.js'
import { databaseUrl, sample, unique } from './helpers.js'

function host(): GoreliableHost & { exits: number[] } {
  const registry = new Registry()
  const health = createHealth({ registry, cacheMs: 0 })
  const exits: number[] = []
  const shutdown = createShutdown({ health, signals: [], exit: (code) => exits.push(code) })
  return { registry, health, shutdown, exits }
}

/** A port on loopback where nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise((r) => server.close(r))
  return port
}

describe.skipIf(!databaseUrl)('host wiring', () => {
  it('reports metrics to the host’s registry, adds a readiness check and a closer that ends the pool', async () => {
    const h = host()
    const name = unique('main')
    const pool = createPool({ connectionString: databaseUrl!, max: 3 }, { name, host: h })
    await pool.query('SELECT 1')

    const text = await h.registry.metrics()
    expect(sample(text, 'db_client_connections_max', { pool_name: name })).toBe(3)
    const report = await h.health.report('readiness')
    expect(report.status).toBe('ok')
    expect(report.checks).toContainEqual(expect.objectContaining({ name: `pg:${name}`, status: 'ok' }))
    expect(sample(await h.registry.metrics(), 'health_check_status', { check: `pg:${name}` })).toBe(1)

    const closers: string[] = []
    h.shutdown.on('shutdown:closer', (e) => closers.push(`${e.name}:${e.status}`))
    const result: ShutdownResult = await h.shutdown.shutdown('test')
    expect(closers).toEqual([`pg:${name}:ok`])
    expect(result.exitCode).toBe(0)
    expect(h.exits).toEqual([0])
    expect(pool.ended).toBe(true)
  })

  it('fails readiness while the database cannot be reached', async () => {
    const h = host()
    const name = unique('down')
    const pool = createPool({ host: '127.0.0.1', port: await closedPort(), user: 'x' }, { name, host: h })
    try {
      const report = await h.health.report('readiness')
      expect(report.status).toBe('fail')
      const check = report.checks.find((c) => c.name === `pg:${name}`)
      expect(check?.status).toBe('fail')
      expect(check?.error).toMatch(/ECONNREFUSED/)
    } finally {
      await pool.end()
    }
  })

  it('removes the check and the closer when the pool is ended by other means, freeing the name', async () => {
    const h = host()
    const name = unique('reused')
    const first = createPool({ connectionString: databaseUrl! }, { name, host: h })
    await first.end()
    expect((await h.health.report('readiness')).checks.map((c) => c.name)).not.toContain(`pg:${name}`)
    const second = createPool({ connectionString: databaseUrl! }, { name, host: h })
    expect((await h.health.report('readiness')).checks.map((c) => c.name)).toContain(`pg:${name}`)
    await h.shutdown.shutdown('test')
    expect(second.ended).toBe(true)
  })

  it('an explicit registry wins over the host’s', async () => {
    const h = host()
    const registry = new Registry()
    const name = unique('own')
    const pool = createPool({ connectionString: databaseUrl! }, { name, host: h, registry })
    try {
      expect(sample(await registry.metrics(), 'db_client_connections_max', { pool_name: name })).toBe(10)
      expect(sample(await h.registry.metrics(), 'db_client_connections_max', { pool_name: name })).toBe(
        undefined,
      )
    } finally {
      await pool.end()
    }
  })

  describe('pgHealthCheck and pgCloser alone', () => {
    it('passes on a live pool, and fails at its timeout on a saturated one', async () => {
      const registry = new Registry()
      const pool = createPool({ connectionString: databaseUrl!, max: 1 }, { name: unique('hc'), registry })
      try {
        await expect(pgHealthCheck(pool)()).resolves.toBeUndefined()
        const holder = await pool.connect()
        try {
          await expect(pgHealthCheck(pool, { timeoutMs: 100 })()).rejects.toMatchObject({
            code: 'GR_ERR_CHECK_TIMEOUT',
          })
        } finally {
          holder.release()
        }
        await expect(pgHealthCheck(pool)()).resolves.toBeUndefined()
        // The caller's signal stops it too.
        await expect(pgHealthCheck(pool)(AbortSignal.abort(new Error('probe gone')))).rejects.toThrow(
          'probe gone',
        )
        expect(() => pgHealthCheck(pool, { timeoutMs: 0 })).toThrow(
          expect.objectContaining({ option: 'timeoutMs' }),
        )
        expect(() => pgHealthCheck(pool, { timeout: 5 } as never)).toThrow(
          expect.objectContaining({ option: 'timeout' }),
        )
      } finally {
        await pool.end()
      }
    })

    it('pgCloser ends the pool once, and waits for an end already under way', async () => {
      const registry = new Registry()
      const pool = createPool({ connectionString: databaseUrl! }, { name: unique('close'), registry })
      await pool.query('SELECT 1')
      const close = pgCloser(pool)
      const ending = pool.end()
      await Promise.all([ending, close(), close()])
      expect(pool.ended).toBe(true)
    })
  })
})
