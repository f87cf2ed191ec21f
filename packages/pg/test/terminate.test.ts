// Connections the server kills (pg_terminate_backend: a failover, an admin, an idle-session timeout) must
// cost the callers that were using them an error, and nobody else anything: no crash, no dead client lent
// again, and the pool keeps serving.
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { streamQuery, withClient, withTransaction } from '../src/index.js'
import { adminClient, databaseUrl, sleep, testPool, until } from './helpers.js'

const backendPid = async (client: pg.PoolClient): Promise<number> =>
  (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid

describe.skipIf(!databaseUrl)('a connection killed by the server', () => {
  let admin: pg.Client
  beforeAll(async () => {
    admin = await adminClient()
  })
  afterAll(async () => {
    await admin?.end()
  })
  const terminate = (pid: number) => admin.query('SELECT pg_terminate_backend($1)', [pid])
  const terminateAll = (applicationName: string) =>
    admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      applicationName,
    ])

  async function keepsServing(pool: pg.Pool): Promise<void> {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => pool.query('SELECT $1::int AS i', [i])),
    )
    expect(results.map((r) => r.rows[0].i)).toEqual(Array.from({ length: 10 }, (_, i) => i))
    expect(pool.idleCount).toBe(pool.totalCount)
  }

  it('during a query inside withClient: the caller gets the error, the client is destroyed', async () => {
    const { pool } = testPool({ max: 2 })
    try {
      let pid = 0
      const err = await withClient(pool, async (c) => {
        pid = await backendPid(c)
        // Handled from the start: it fails while the test is still awaiting the termination.
        const running = c.query('SELECT pg_sleep(10)').then(
          () => undefined,
          (e: unknown) => e,
        )
        await sleep(50)
        await terminate(pid)
        throw await running
      }).catch((e) => e)
      expect(err).toMatchObject({ code: '57P01' })
      await keepsServing(pool)
      const pids = await Promise.all([1, 2].map(() => withClient(pool, backendPid)))
      expect(pids).not.toContain(pid)
    } finally {
      await pool.end()
    }
  })

  it('between two queries of a client the caller holds: no crash, and release drops it', async () => {
    const warnings: string[] = []
    const { pool } = testPool({ max: 1 }, { logger: { warn: (_o, msg) => warnings.push(msg ?? '') } })
    try {
      const client = await pool.connect()
      await terminate(await backendPid(client))
      // pg emits 'error' on the client with no query running; without a listener the process would die.
      await until(() => warnings.some((m) => m.includes('lent client failed')))
      await expect(client.query('SELECT 1')).rejects.toThrow()
      client.release()
      await keepsServing(pool)
    } finally {
      await pool.end()
    }
  })

  it('while idle in the pool: no crash, the pool drops it and opens a new one', async () => {
    const warnings: string[] = []
    const { pool, applicationName } = testPool(
      { max: 2 },
      { logger: { warn: (_o, msg) => warnings.push(msg ?? '') } },
    )
    try {
      await Promise.all([pool.query('SELECT pg_sleep(0.05)'), pool.query('SELECT pg_sleep(0.05)')])
      expect(pool.idleCount).toBe(2)
      await terminateAll(applicationName)
      await until(() => pool.totalCount === 0)
      expect(warnings.some((m) => m.includes('idle pg connection failed'))).toBe(true)
      await keepsServing(pool)
    } finally {
      await pool.end()
    }
  })

  it('in the middle of streamQuery: the loop fails, the client is destroyed', async () => {
    const { pool } = testPool({ max: 1 })
    try {
      const pid = await withClient(pool, backendPid)
      let n = 0
      const err = await (async () => {
        for await (const _ of streamQuery(pool, 'SELECT i FROM generate_series(1, 100000) AS i', [], {
          batchSize: 10,
        })) {
          if (++n === 25) await terminate(pid)
        }
      })().catch((e) => e)
      expect(err).toBeInstanceOf(Error)
      expect(n).toBeLessThan(100_000)
      await keepsServing(pool)
      expect(await withClient(pool, backendPid)).not.toBe(pid)
    } finally {
      await pool.end()
    }
  })

  it('inside withTransaction: the rollback fails too, and the client is destroyed, not returned', async () => {
    const { pool } = testPool({ max: 1 })
    try {
      let pid = 0
      const thrown = new Error('after the kill')
      const err = await withTransaction(pool, async (c) => {
        pid = await backendPid(c)
        await terminate(pid)
        await until(
          async () =>
            (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 0,
        )
        throw thrown
      }).catch((e) => e)
      expect(err).toBe(thrown)
      await keepsServing(pool)
      expect(await withClient(pool, backendPid)).not.toBe(pid)
    } finally {
      await pool.end()
    }
  })
})
