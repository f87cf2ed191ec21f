import { createHealth, createShutdown, isGoreliableError } from '@goreliable/core'
import pg from 'pg'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createPool, instrumentPool, withClient } from '../src/index.js'
import { databaseUrl, sample, testPool, unique } from './helpers.js'

describe.skipIf(!databaseUrl)('instrumentPool and createPool', () => {
  it('reports idle, used, max and pending, read at scrape time', async () => {
    const { pool, registry, applicationName: name } = testPool({ max: 4 })
    try {
      const a = await pool.connect()
      const b = await pool.connect()
      a.release()
      let text = await registry.metrics()
      expect(sample(text, 'db_client_connections', { pool_name: name, state: 'idle' })).toBe(1)
      expect(sample(text, 'db_client_connections', { pool_name: name, state: 'used' })).toBe(1)
      expect(sample(text, 'db_client_connections_max', { pool_name: name })).toBe(4)
      expect(sample(text, 'db_client_connections_pending_requests', { pool_name: name })).toBe(0)
      b.release()
      text = await registry.metrics()
      expect(sample(text, 'db_client_connections', { pool_name: name, state: 'used' })).toBe(0)
      expect(sample(text, 'db_client_connections_use_time_seconds_count', { pool_name: name })).toBe(2)
      expect(sample(text, 'db_client_connections_leaks_total', { pool_name: name })).toBe(0)
    } finally {
      await pool.end()
    }
  })

  it('times queries by their name, unnamed otherwise, and never exports SQL text', async () => {
    const { pool, registry, applicationName: name } = testPool({ max: 2 })
    try {
      await pool.query('SELECT 1 AS secret_column')
      await pool.query({ name: 'find_user', text: 'SELECT $1::int AS id', values: [7] })
      await pool.query({ name: 'find_user', text: 'SELECT $1::int AS id', values: [8] })
      await withClient(pool, async (c) => {
        await c.query({ name: 'find_user', text: 'SELECT $1::int AS id', values: [9] })
        await c.query('SELECT 2')
        // The callback forms pg also accepts are timed too.
        await new Promise<void>((resolve, reject) =>
          c.query('SELECT 3', (err) => (err ? reject(err) : resolve())),
        )
        await new Promise<void>((resolve, reject) =>
          c.query('SELECT $1::int', [4], (err) => (err ? reject(err) : resolve())),
        )
        await new Promise<void>((resolve, reject) =>
          pool.query('SELECT 5', [], (err) => (err ? reject(err) : resolve())),
        )
      })
      // A failing query is timed as well.
      await pool.query({ name: 'broken', text: 'SELECT 1 / 0' }).catch(() => {})
      const text = await registry.metrics()
      const count = (operation: string) =>
        sample(text, 'db_client_operation_duration_seconds_count', { pool_name: name, operation })
      expect(count('find_user')).toBe(3)
      expect(count('unnamed')).toBe(5)
      expect(count('broken')).toBe(1)
      expect(text).not.toContain('secret_column')
      expect(text).not.toContain('SELECT')
    } finally {
      await pool.end()
    }
  })

  it('bounds the distinct operation names per pool, putting the rest under "other"', async () => {
    const { pool, registry, applicationName: name } = testPool({ max: 1 })
    try {
      await withClient(pool, async (c) => {
        for (let i = 0; i < 205; i++) await c.query({ name: `q${i}`, text: 'SELECT 1' })
      })
      const text = await registry.metrics()
      expect(
        sample(text, 'db_client_operation_duration_seconds_count', { pool_name: name, operation: 'q199' }),
      ).toBe(1)
      expect(
        sample(text, 'db_client_operation_duration_seconds_count', { pool_name: name, operation: 'q200' }),
      ).toBe(undefined)
      expect(
        sample(text, 'db_client_operation_duration_seconds_count', { pool_name: name, operation: 'other' }),
      ).toBe(5)
    } finally {
      await pool.end()
    }
  })

  it('sets statement_timeout on every connection: a longer statement is cancelled by the server', async () => {
    const { pool } = testPool({ max: 1 }, { statementTimeoutMs: 100 })
    try {
      expect((await pool.query('SHOW statement_timeout')).rows[0].statement_timeout).toBe('100ms')
      await expect(pool.query('SELECT pg_sleep(2)')).rejects.toMatchObject({ code: '57014' })
    } finally {
      await pool.end()
    }
  })

  it('bounds every wait: acquireTimeoutMs becomes pg’s connectionTimeoutMillis (default 5000)', async () => {
    const registry = new Registry()
    const made: pg.Pool[] = []
    const make = (config: pg.PoolConfig, options: object = {}) => {
      const pool = createPool(
        { connectionString: databaseUrl!, ...config },
        { name: unique('p'), registry, ...options },
      )
      made.push(pool)
      return pool
    }
    expect(make({}).options.connectionTimeoutMillis).toBe(5000)
    expect(make({}, { acquireTimeoutMs: 250 }).options.connectionTimeoutMillis).toBe(250)
    // A bound already in the config is kept; 0 ("wait forever" to pg) is not a bound.
    expect(make({ connectionTimeoutMillis: 700 }).options.connectionTimeoutMillis).toBe(700)
    expect(make({ connectionTimeoutMillis: 0 }).options.connectionTimeoutMillis).toBe(5000)
    expect(
      make({ connectionTimeoutMillis: 700 }, { acquireTimeoutMs: 700 }).options.connectionTimeoutMillis,
    ).toBe(700)
    expect(() => make({ connectionTimeoutMillis: 700 }, { acquireTimeoutMs: 800 })).toThrow(
      expect.objectContaining({ code: 'GR_ERR_INVALID_OPTION', option: 'acquireTimeoutMs' }),
    )
    expect(() => make({ statement_timeout: 700 }, { statementTimeoutMs: 800 })).toThrow(
      expect.objectContaining({ option: 'statementTimeoutMs' }),
    )
    await Promise.all(made.map((p) => p.end()))
  })

  it('instruments a pool the user already has, and returns the same pool', async () => {
    const registry = new Registry()
    const name = unique('existing')
    const bare = new pg.Pool({ connectionString: databaseUrl!, max: 2 })
    const pool = instrumentPool(bare, { name, registry })
    try {
      expect(pool).toBe(bare)
      // pg's callback form of connect(), with its `done`.
      await new Promise<void>((resolve, reject) =>
        pool.connect((err, client, done) => {
          if (err || !client) return reject(err)
          client.query('SELECT 1', (queryErr) => {
            done()
            if (queryErr) reject(queryErr)
            else resolve()
          })
        }),
      )
      const text = await registry.metrics()
      expect(sample(text, 'db_client_connections_wait_time_seconds_count', { pool_name: name })).toBe(1)
      expect(sample(text, 'db_client_connections_use_time_seconds_count', { pool_name: name })).toBe(1)
      // A second release is still pg's error, and does not count a second hold.
      const client = await pool.connect()
      client.release()
      expect(() => client.release()).toThrow('Release called on client which has already been released')
      expect(
        sample(await registry.metrics(), 'db_client_connections_use_time_seconds_count', { pool_name: name }),
      ).toBe(2)
    } finally {
      await pool.end()
    }
  })

  it('stops reporting an ended pool and frees its name; end() keeps pg’s own semantics', async () => {
    const registry = new Registry()
    const name = unique('ending')
    const pool = createPool({ connectionString: databaseUrl! }, { name, registry })
    await pool.query('SELECT 1')
    await new Promise<void>((resolve) => pool.end(() => resolve()))
    expect(pool.ended).toBe(true)
    await expect(pool.end()).rejects.toThrow('Called end on pool more than once')
    const text = await registry.metrics()
    expect(sample(text, 'db_client_connections_max', { pool_name: name })).toBe(undefined)
    // Cumulative series stay: they are still true.
    expect(sample(text, 'db_client_connections_wait_time_seconds_count', { pool_name: name })).toBe(1)
    const again = createPool({ connectionString: databaseUrl! }, { name, registry })
    await again.end()
  })

  it('refuses bad options at creation, with coded errors naming the option', () => {
    const registry = new Registry()
    const base = { name: 'p', registry }
    const cases: Array<[() => unknown, string]> = [
      [() => createPool({}, undefined as never), 'options'],
      [() => createPool({}, { registry } as never), 'name'],
      [() => createPool({}, { name: '', registry }), 'name'],
      [() => createPool({}, { name: 'p' }), 'registry'],
      [() => createPool({}, { name: 'p', registry: {} as Registry }), 'registry'],
      [() => createPool({}, { ...base, timeoutMs: 5 } as never), 'timeoutMs'],
      [() => createPool({}, { ...base, acquireTimeoutMs: 0 }), 'acquireTimeoutMs'],
      [() => createPool({}, { ...base, acquireTimeoutMs: 1.5 }), 'acquireTimeoutMs'],
      [() => createPool({}, { ...base, acquireTimeoutMs: 2 ** 31 }), 'acquireTimeoutMs'],
      [() => createPool({}, { ...base, leakDetectionMs: -1 }), 'leakDetectionMs'],
      [() => createPool({}, { ...base, statementTimeoutMs: 0 }), 'statementTimeoutMs'],
      [() => createPool({}, { ...base, logger: console.log as never }), 'logger'],
      [() => createPool({}, { ...base, onLeak: 'warn' as never }), 'onLeak'],
      [() => createPool({}, { ...base, retryAfterSeconds: 0 }), 'retryAfterSeconds'],
      [() => createPool({}, { ...base, host: { registry } as never }), 'host'],
      [() => createPool(null as never, base), 'config'],
      [() => instrumentPool({} as pg.Pool, base), 'pool'],
    ]
    for (const [call, option] of cases) {
      let thrown: unknown
      try {
        call()
      } catch (err) {
        thrown = err
      }
      expect(thrown, option).toBeInstanceOf(TypeError)
      expect(isGoreliableError(thrown)).toBe(true)
      expect(thrown).toMatchObject({ code: 'GR_ERR_INVALID_OPTION', option })
    }
  })

  it('refuses a second pool under an open pool’s name, and a pool instrumented twice', async () => {
    const registry = new Registry()
    const pool = createPool({ connectionString: databaseUrl! }, { name: 'twice', registry })
    try {
      expect(() => createPool({ connectionString: databaseUrl! }, { name: 'twice', registry })).toThrow(
        expect.objectContaining({ option: 'name' }),
      )
      expect(() => instrumentPool(pool, { name: 'other', registry })).toThrow(
        expect.objectContaining({ option: 'pool' }),
      )
      // A host whose health already has the check refuses too, and the name is not left claimed.
      const health = createHealth()
      const shutdown = createShutdown({ signals: [], exit: () => {} })
      health.addCheck({ name: 'pg:taken', kind: 'readiness', check: () => true })
      expect(() =>
        createPool(
          { connectionString: databaseUrl! },
          { name: 'taken', host: { registry, health, shutdown } },
        ),
      ).toThrow(expect.objectContaining({ option: 'name' }))
      const retry = createPool({ connectionString: databaseUrl! }, { name: 'taken', registry })
      await retry.end()
    } finally {
      await pool.end()
    }
  })
})
