import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { streamQuery, withClient } from '../src/index.js'
import { adminClient, collect, databaseUrl, serverStates, sleep, testPool } from './helpers.js'

const SERIES = 'SELECT i FROM generate_series(1, $1::int) AS i'
const pid = (pool: pg.Pool) =>
  withClient(pool, async (c) => (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid)

describe.skipIf(!databaseUrl)('streamQuery', () => {
  let admin: pg.Client
  beforeAll(async () => {
    admin = await adminClient()
  })
  afterAll(async () => {
    await admin?.end()
  })

  it('reads every row in order, whatever the batch size', async () => {
    const { pool } = testPool({ max: 1 })
    try {
      for (const [rows, batchSize] of [
        [0, 10],
        [1, 1],
        [10, 5],
        [11, 5],
        [1000, 100],
        [250, 1000],
      ] as const) {
        const seen: number[] = []
        for await (const row of streamQuery<{ i: number }>(pool, SERIES, [rows], { batchSize }))
          seen.push(row.i)
        expect(seen).toEqual(Array.from({ length: rows }, (_, k) => k + 1))
      }
      expect(pool.idleCount).toBe(pool.totalCount)
    } finally {
      await pool.end()
    }
  })

  it('runs the query again, on a connection of its own, each time the iterable is iterated', async () => {
    const { pool } = testPool({ max: 2 })
    try {
      const rows = streamQuery<{ i: number }>(pool, SERIES, [3])
      const twice = await Promise.all([collect(rows), collect(rows)])
      expect(twice.map((r) => r.map((x) => x.i))).toEqual([
        [1, 2, 3],
        [1, 2, 3],
      ])
    } finally {
      await pool.end()
    }
  })

  it('takes no connection until iteration starts', async () => {
    const { pool } = testPool({ max: 1 })
    try {
      streamQuery(pool, SERIES, [10])
      await sleep(20)
      expect(pool.totalCount).toBe(0)
    } finally {
      await pool.end()
    }
  })

  it('break closes the cursor and releases the client before the loop is left', async () => {
    const { pool, applicationName } = testPool({ max: 1 })
    try {
      const before = await pid(pool)
      let n = 0
      for await (const _ of streamQuery(pool, SERIES, [100_000], { batchSize: 10 })) {
        if (++n === 15) break
      }
      expect(n).toBe(15)
      expect(pool.idleCount).toBe(1)
      expect(await serverStates(admin, applicationName)).toEqual(['idle'])
      // The same connection serves the next caller: it was returned, not destroyed.
      expect(await pid(pool)).toBe(before)
    } finally {
      await pool.end()
    }
  })

  it('a throw in the loop body reaches the caller after the client is released', async () => {
    const { pool, applicationName } = testPool({ max: 1 })
    try {
      const thrown = new Error('handler failed')
      let idleWhenCaught = -1
      try {
        for await (const _ of streamQuery(pool, SERIES, [1000], { batchSize: 7 })) throw thrown
      } catch (err) {
        idleWhenCaught = pool.idleCount
        expect(err).toBe(thrown)
      }
      expect(idleWhenCaught).toBe(1)
      expect(await serverStates(admin, applicationName)).toEqual(['idle'])
    } finally {
      await pool.end()
    }
  })

  it('a query error half-way surfaces as pg’s error, with its code, after the client is released', async () => {
    const { pool, applicationName } = testPool({ max: 1 })
    try {
      const before = await pid(pool)
      const seen: number[] = []
      let idleWhenCaught = -1
      const err = await (async () => {
        try {
          for await (const row of streamQuery<{ i: number }>(
            pool,
            'SELECT i, 1 / (i - 35) AS x FROM generate_series(1, 100) AS i',
            [],
            { batchSize: 10 },
          )) {
            seen.push(row.i)
          }
        } catch (e) {
          idleWhenCaught = pool.idleCount
          return e
        }
      })()
      expect(err).toBeInstanceOf(pg.DatabaseError)
      expect(err).toMatchObject({ code: '22012', message: 'division by zero' })
      expect(idleWhenCaught).toBe(1)
      // Rows of the batches before the failing one were delivered.
      expect(seen).toEqual(Array.from({ length: 30 }, (_, k) => k + 1))
      expect(await serverStates(admin, applicationName)).toEqual(['idle'])
      // A SQL error leaves the session usable: the client went back, not away.
      expect(await pid(pool)).toBe(before)
    } finally {
      await pool.end()
    }
  })

  it('a query that fails at once (a syntax error) rejects with its code', async () => {
    const { pool } = testPool({ max: 1 })
    try {
      await expect(collect(streamQuery(pool, 'SELEC nothing'))).rejects.toMatchObject({ code: '42601' })
      expect(pool.idleCount).toBe(pool.totalCount)
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    } finally {
      await pool.end()
    }
  })

  describe('abort', () => {
    it('before iteration starts: rejects without taking a connection', async () => {
      const { pool } = testPool({ max: 1 })
      try {
        const rows = streamQuery(pool, SERIES, [10], { signal: AbortSignal.abort() })
        await expect(collect(rows)).rejects.toMatchObject({ name: 'AbortError' })
        expect(pool.totalCount).toBe(0)
      } finally {
        await pool.end()
      }
    })

    it('while waiting for a connection: rejects at once, and the connection goes back when it comes', async () => {
      const { pool } = testPool({ max: 1 }, { acquireTimeoutMs: 10_000 })
      try {
        const holder = await pool.connect()
        try {
          const controller = new AbortController()
          const started = Date.now()
          const reading = collect(streamQuery(pool, SERIES, [10], { signal: controller.signal }))
          await sleep(50)
          controller.abort(new Error('client went away'))
          await expect(reading).rejects.toThrow('client went away')
          expect(Date.now() - started).toBeLessThan(5000)
        } finally {
          holder.release()
        }
        await sleep(20)
        expect(pool.idleCount).toBe(1)
        expect(pool.waitingCount).toBe(0)
      } finally {
        await pool.end()
      }
    })

    it('while a batch is being read: closes the cursor and releases the client, then rejects', async () => {
      const { pool, applicationName } = testPool({ max: 1 })
      try {
        const controller = new AbortController()
        // Each row costs the server 20 ms: a batch of 50 takes a second, all rows four.
        const rows = streamQuery(pool, 'SELECT i, pg_sleep(0.02) FROM generate_series(1, 200) AS i', [], {
          batchSize: 50,
          signal: controller.signal,
        })
        setTimeout(() => controller.abort(), 100)
        const started = Date.now()
        await expect(collect(rows)).rejects.toMatchObject({ name: 'AbortError' })
        // Closing the portal waits for the server to finish the batch in flight (1 s), not every row (4 s).
        expect(Date.now() - started).toBeLessThan(3500)
        expect(pool.idleCount).toBe(1)
        expect(await serverStates(admin, applicationName)).toEqual(['idle'])
      } finally {
        await pool.end()
      }
    })

    it('between rows: the next row is not handed over', async () => {
      const { pool } = testPool({ max: 1 })
      try {
        const controller = new AbortController()
        let n = 0
        const loop = async () => {
          for await (const _ of streamQuery(pool, SERIES, [100], {
            batchSize: 50,
            signal: controller.signal,
          })) {
            if (++n === 3) controller.abort()
          }
        }
        await expect(loop()).rejects.toMatchObject({ name: 'AbortError' })
        expect(n).toBe(3)
        expect(pool.idleCount).toBe(1)
      } finally {
        await pool.end()
      }
    })
  })

  it('refuses bad input at the call, with coded errors', () => {
    const pool = new pg.Pool({ connectionString: databaseUrl! })
    const bad: Array<[() => unknown, string]> = [
      [() => streamQuery({} as pg.Pool, 'SELECT 1'), 'pool'],
      [() => streamQuery(pool, ''), 'text'],
      [() => streamQuery(pool, 'SELECT 1', 'x' as unknown as unknown[]), 'values'],
      [() => streamQuery(pool, 'SELECT 1', [], { batchSize: 0 }), 'batchSize'],
      [() => streamQuery(pool, 'SELECT 1', [], { batchSize: 1.5 }), 'batchSize'],
      [() => streamQuery(pool, 'SELECT 1', [], { signal: {} as AbortSignal }), 'signal'],
      [() => streamQuery(pool, 'SELECT 1', [], { batch: 10 } as never), 'batch'],
    ]
    for (const [call, option] of bad) {
      expect(call).toThrow(expect.objectContaining({ code: 'GR_ERR_INVALID_OPTION', option }))
    }
  })
})
