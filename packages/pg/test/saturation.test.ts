// The failure this package exists to make visible: a pool too small for its load, callers queueing for a
// connection, and past the acquire timeout a 503 the caller can act on instead of a request that hangs.
import { createServer, type Server } from 'node:net'
import { isGoreliableError } from '@goreliable/core'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createPool, PoolTimeoutError, withClient } from '../src/index.js'
import { databaseUrl, sample, testPool } from './helpers.js'

describe.skipIf(!databaseUrl)('a saturated pool', () => {
  it('shows pending requests while it lasts, and times every wait', async () => {
    const { pool, registry, applicationName: name } = testPool({ max: 2 }, { acquireTimeoutMs: 10_000 })
    try {
      // 20 callers, half through pool.query and half through withClient, each holding a connection 50 ms.
      const callers = Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? pool.query('SELECT pg_sleep(0.05)')
          : withClient(pool, (c) => c.query('SELECT pg_sleep(0.05)')),
      )
      let maxPending = 0
      let maxUsed = 0
      let done = false
      const all = Promise.all(callers).finally(() => {
        done = true
      })
      while (!done) {
        const text = await registry.metrics()
        maxPending = Math.max(
          maxPending,
          sample(text, 'db_client_connections_pending_requests', { pool_name: name })!,
        )
        maxUsed = Math.max(
          maxUsed,
          sample(text, 'db_client_connections', { pool_name: name, state: 'used' })!,
        )
        await new Promise((r) => setTimeout(r, 10))
      }
      await all

      const text = await registry.metrics()
      expect(maxPending).toBeGreaterThan(0)
      expect(maxUsed).toBe(2)
      expect(sample(text, 'db_client_connections_max', { pool_name: name })).toBe(2)
      expect(sample(text, 'db_client_connections_pending_requests', { pool_name: name })).toBe(0)
      // Every caller waited once and held once.
      expect(sample(text, 'db_client_connections_wait_time_seconds_count', { pool_name: name })).toBe(20)
      expect(sample(text, 'db_client_connections_use_time_seconds_count', { pool_name: name })).toBe(20)
      // The last callers queued behind nine rounds of 50 ms: some waits are far above a millisecond.
      const fast = sample(text, 'db_client_connections_wait_time_seconds_bucket', {
        pool_name: name,
        le: '0.025',
      })!
      expect(fast).toBeLessThan(20)
      expect(
        sample(text, 'db_client_connections_wait_time_seconds_sum', { pool_name: name }),
      ).toBeGreaterThan(0.5)
      expect(sample(text, 'db_client_connections_timeouts_total', { pool_name: name })).toBe(0)
    } finally {
      await pool.end()
    }
  })

  it('rejects callers past acquireTimeoutMs with PoolTimeoutError, and counts them', async () => {
    const {
      pool,
      registry,
      applicationName: name,
    } = testPool({ max: 2 }, { acquireTimeoutMs: 300, retryAfterSeconds: 2 })
    try {
      const holders = [1, 2].map(() => withClient(pool, (c) => c.query('SELECT pg_sleep(1.5)')))
      await new Promise((r) => setTimeout(r, 100))
      const late = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          i % 2 === 0 ? pool.query('SELECT 1') : withClient(pool, (c) => c.query('SELECT 1')),
        ),
      )
      for (const outcome of late) {
        expect(outcome.status).toBe('rejected')
        const err = (outcome as PromiseRejectedResult).reason
        expect(err).toBeInstanceOf(PoolTimeoutError)
        expect(isGoreliableError(err)).toBe(true)
        expect(err).toMatchObject({
          code: 'GR_ERR_POOL_TIMEOUT',
          statusCode: 503,
          retryAfterSeconds: 2,
          poolName: name,
        })
        // pg-pool's own error stays reachable.
        expect(err.cause.message).toBe('timeout exceeded when trying to connect')
      }
      await Promise.all(holders)
      const text = await registry.metrics()
      expect(sample(text, 'db_client_connections_timeouts_total', { pool_name: name })).toBe(10)
      // Waits that ended in a timeout are counted there, not in the wait histogram.
      expect(sample(text, 'db_client_connections_wait_time_seconds_count', { pool_name: name })).toBe(2)
      expect(sample(text, 'db_client_connections_pending_requests', { pool_name: name })).toBe(0)
      expect(pool.waitingCount).toBe(0)
      // Once the holders are done the pool serves again.
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    } finally {
      await pool.end()
    }
  })

  it('still bounds a caller queued in the same tick as one an idle connection serves', async () => {
    // The acquire an idle connection serves goes without pg's timer; the next one in the same tick finds
    // that connection already promised and must keep its timer.
    const { pool, registry, applicationName: name } = testPool({ max: 1 }, { acquireTimeoutMs: 300 })
    try {
      await pool.query('SELECT 1')
      expect(pool.idleCount).toBe(1)
      const holder = withClient(pool, (c) => c.query('SELECT pg_sleep(1)'))
      const started = performance.now()
      const late = await pool.query('SELECT 1').then(
        () => undefined,
        (err: unknown) => err,
      )
      expect(late).toBeInstanceOf(PoolTimeoutError)
      expect(performance.now() - started).toBeLessThan(900)
      await holder
      expect(pool.options.connectionTimeoutMillis).toBe(300)
      const text = await registry.metrics()
      expect(sample(text, 'db_client_connections_timeouts_total', { pool_name: name })).toBe(1)
    } finally {
      await pool.end()
    }
  })

  it('bounds the wait when the server accepts TCP but never answers (connecting counts too)', async () => {
    // A listener that never speaks: pg's connect hangs until acquireTimeoutMs ends it.
    const sockets = new Set<import('node:net').Socket>()
    const server: Server = createServer((s) => sockets.add(s))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as { port: number }).port
    const registry = new Registry()
    const pool = createPool(
      { host: '127.0.0.1', port, user: 'nobody', database: 'nothing' },
      { name: 'black_hole', registry, acquireTimeoutMs: 200 },
    )
    try {
      const started = Date.now()
      const err = await pool.query('SELECT 1').catch((e) => e)
      expect(err).toBeInstanceOf(PoolTimeoutError)
      expect(err.cause.message).toBe('Connection terminated due to connection timeout')
      expect(Date.now() - started).toBeLessThan(5000)
      expect(
        sample(await registry.metrics(), 'db_client_connections_timeouts_total', { pool_name: 'black_hole' }),
      ).toBe(1)
    } finally {
      await pool.end()
      for (const s of sockets) s.destroy()
      await new Promise((r) => server.close(r))
    }
  })
})
