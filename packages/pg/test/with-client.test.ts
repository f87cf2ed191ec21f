import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PoolTimeoutError, TransactionRolledBackError, withClient, withTransaction } from '../src/index.js'
import { adminClient, databaseUrl, serverStates, testPool, unique } from './helpers.js'

const backendPid = async (client: pg.PoolClient): Promise<number> =>
  (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid

describe.skipIf(!databaseUrl)('withClient and withTransaction', () => {
  let admin: pg.Client
  const table = unique('gr_pg_tx')
  beforeAll(async () => {
    admin = await adminClient()
    await admin.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`)
  })
  afterAll(async () => {
    await admin?.query(`DROP TABLE IF EXISTS ${table}`)
    await admin?.end()
  })
  const ids = async () => (await admin.query(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => r.id)

  describe('withClient', () => {
    it('returns what fn returns and gives the same connection to the next caller', async () => {
      const { pool } = testPool({ max: 1 })
      try {
        const first = await withClient(pool, backendPid)
        expect(pool.idleCount).toBe(1)
        expect(await withClient(pool, backendPid)).toBe(first)
      } finally {
        await pool.end()
      }
    })

    it('a SQL error surfaces as pg’s own error, with code and message, after the client is released', async () => {
      const { pool } = testPool({ max: 1 })
      try {
        const before = await withClient(pool, backendPid)
        let idleWhenCaught = -1
        const err = await withClient(pool, (c) => c.query('SELECT * FROM gr_pg_no_such_table')).catch((e) => {
          idleWhenCaught = pool.idleCount
          return e
        })
        expect(err).toBeInstanceOf(pg.DatabaseError)
        expect(err).toMatchObject({
          code: '42P01',
          message: 'relation "gr_pg_no_such_table" does not exist',
        })
        expect(idleWhenCaught).toBe(1)
        // An ordinary SQL error does not cost the connection.
        expect(await withClient(pool, backendPid)).toBe(before)
      } finally {
        await pool.end()
      }
    })

    it('a throw in fn reaches the caller unchanged, after the client is released', async () => {
      const { pool } = testPool({ max: 1 })
      try {
        const thrown = new Error('boom')
        await expect(withClient(pool, () => Promise.reject(thrown))).rejects.toBe(thrown)
        await expect(
          withClient(pool, () => {
            throw thrown
          }),
        ).rejects.toBe(thrown)
        expect(pool.idleCount).toBe(pool.totalCount)
      } finally {
        await pool.end()
      }
    })

    it('destroys a client that fn left inside an open transaction', async () => {
      const { pool, applicationName } = testPool({ max: 1 })
      try {
        const pid = await withClient(pool, async (c) => {
          await c.query('BEGIN')
          return backendPid(c)
        })
        expect(await serverStates(admin, applicationName)).not.toContain('idle in transaction')
        expect(await withClient(pool, backendPid)).not.toBe(pid)
      } finally {
        await pool.end()
      }
    })

    it('turns a timeout of a pool that was not instrumented into PoolTimeoutError too', async () => {
      const pool = new pg.Pool({ connectionString: databaseUrl!, max: 1, connectionTimeoutMillis: 100 })
      const holder = await pool.connect()
      try {
        const err = await withClient(pool, () => 1).catch((e) => e)
        expect(err).toBeInstanceOf(PoolTimeoutError)
        expect(err).toMatchObject({ code: 'GR_ERR_POOL_TIMEOUT', statusCode: 503, poolName: 'unnamed' })
      } finally {
        holder.release()
        await pool.end()
      }
    })

    it('refuses a missing pool or function with coded errors', async () => {
      await expect(withClient(undefined as unknown as pg.Pool, () => 1)).rejects.toMatchObject({
        code: 'GR_ERR_INVALID_OPTION',
        option: 'pool',
      })
      const pool = new pg.Pool({ connectionString: databaseUrl! })
      await expect(withClient(pool, 'x' as never)).rejects.toMatchObject({ option: 'fn' })
      await pool.end()
    })
  })

  describe('withTransaction', () => {
    it('commits when fn resolves', async () => {
      const { pool } = testPool({ max: 1 })
      try {
        const result = await withTransaction(pool, async (c) => {
          await c.query(`INSERT INTO ${table} (id) VALUES (1), (2)`)
          return 'saved'
        })
        expect(result).toBe('saved')
        expect(await ids()).toEqual([1, 2])
      } finally {
        await pool.end()
      }
    })

    it('rolls back when fn throws, and keeps the connection', async () => {
      const { pool, applicationName } = testPool({ max: 1 })
      try {
        const before = await withClient(pool, backendPid)
        const thrown = new Error('validation failed')
        await expect(
          withTransaction(pool, async (c) => {
            await c.query(`INSERT INTO ${table} (id) VALUES (10)`)
            throw thrown
          }),
        ).rejects.toBe(thrown)
        expect(await ids()).not.toContain(10)
        expect(await serverStates(admin, applicationName)).toEqual(['idle'])
        expect(await withClient(pool, backendPid)).toBe(before)
      } finally {
        await pool.end()
      }
    })

    it('rolls back on a SQL error, which surfaces with its code after the client is released', async () => {
      const { pool } = testPool({ max: 1 })
      try {
        let idleWhenCaught = -1
        const err = await withTransaction(pool, async (c) => {
          await c.query(`INSERT INTO ${table} (id) VALUES (20)`)
          await c.query(`INSERT INTO ${table} (id) VALUES (20)`)
        }).catch((e) => {
          idleWhenCaught = pool.idleCount
          return e
        })
        expect(err).toMatchObject({ code: '23505' })
        expect(err.message).toContain('duplicate key value violates unique constraint')
        expect(idleWhenCaught).toBe(1)
        expect(await ids()).not.toContain(20)
      } finally {
        await pool.end()
      }
    })

    it('rejects with TransactionRolledBackError when fn swallowed a failed statement', async () => {
      const { pool } = testPool({ max: 1 })
      try {
        const err = await withTransaction(pool, async (c) => {
          await c.query(`INSERT INTO ${table} (id) VALUES (30)`)
          await c.query('SELECT 1 / 0').catch(() => {})
          return 'looks fine'
        }).catch((e) => e)
        expect(err).toBeInstanceOf(TransactionRolledBackError)
        expect(err.code).toBe('GR_ERR_TRANSACTION_ROLLED_BACK')
        expect(await ids()).not.toContain(30)
        expect(pool.idleCount).toBe(1)
      } finally {
        await pool.end()
      }
    })

    it('sets the isolation level and read-only mode', async () => {
      const { pool } = testPool({ max: 1 })
      try {
        const show = (c: pg.PoolClient) =>
          c.query('SELECT current_setting($1) AS v', ['transaction_isolation']).then((r) => r.rows[0].v)
        expect(await withTransaction(pool, show, { isolationLevel: 'serializable' })).toBe('serializable')
        expect(await withTransaction(pool, show, { isolationLevel: 'repeatable read' })).toBe(
          'repeatable read',
        )
        await expect(
          withTransaction(pool, (c) => c.query(`INSERT INTO ${table} (id) VALUES (40)`), { readOnly: true }),
        ).rejects.toMatchObject({ code: '25006' })
        await withTransaction(pool, (c) => c.query(`INSERT INTO ${table} (id) VALUES (41)`), {
          readOnly: false,
        })
        expect(await ids()).toContain(41)
        expect(await ids()).not.toContain(40)
      } finally {
        await pool.end()
      }
    })

    it('refuses bad options before taking a connection', async () => {
      const { pool } = testPool({ max: 1 })
      try {
        const bad: Array<[unknown, string]> = [
          [{ isolationLevel: 'snapshot' }, 'isolationLevel'],
          [{ readOnly: 'yes' }, 'readOnly'],
          [{ deferrable: true }, 'deferrable'],
          ['serializable', 'options'],
        ]
        for (const [options, option] of bad) {
          await expect(withTransaction(pool, () => 1, options as never)).rejects.toMatchObject({
            code: 'GR_ERR_INVALID_OPTION',
            option,
          })
        }
        expect(pool.totalCount).toBe(0)
      } finally {
        await pool.end()
      }
    })
  })
})
