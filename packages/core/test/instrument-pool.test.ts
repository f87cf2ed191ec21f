import { spawnSync } from 'node:child_process'
import fc from 'fast-check'
import { createPool, type Pool } from 'generic-pool'
import { Registry } from 'prom-client'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { ErrorCodes, InvalidOptionError, isGoreliableError, PoolTimeoutError } from '../src/errors.js'
import { instrumentPool, instrumentPoolOptionKeys } from '../src/instrument-pool.js'
import { createPoolMetrics, createPoolMetricsOptionKeys } from '../src/pool-metrics.js'
import { withResource } from '../src/with-resource.js'

interface Conn {
  id: number
}

function makePool(max: number, acquireTimeoutMillis?: number): Pool<Conn> {
  let n = 0
  return createPool<Conn>(
    { create: async () => ({ id: ++n }), destroy: async () => {} },
    acquireTimeoutMillis === undefined ? { max } : { max, acquireTimeoutMillis },
  )
}

/** The value of the one sample of `name` whose labels include `labels`, from Prometheus text. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found: number[] = []
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) found.push(Number(m[3]))
  }
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return found[0]
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setImmediate(r))
  expect(condition()).toBe(true)
}

async function shutdown(pool: Pool<Conn>): Promise<void> {
  await pool.drain()
  await pool.clear()
}

describe('instrumentPool + withResource', () => {
  it('reports a saturated pool while it is saturated, and times every wait and hold', async () => {
    const registry = new Registry()
    const pool = instrumentPool(makePool(2), { name: 'db', registry })
    let open!: () => void
    const gate = new Promise<void>((r) => {
      open = r
    })
    const callers = Array.from({ length: 10 }, (_, i) =>
      withResource(pool, async (conn) => {
        await gate
        return `${i}:${conn.id}`
      }),
    )
    await until(() => pool.borrowed === 2)

    const during = await registry.metrics()
    expect(sample(during, 'db_client_connections', { pool_name: 'db', state: 'used' })).toBe(2)
    expect(sample(during, 'db_client_connections', { pool_name: 'db', state: 'idle' })).toBe(0)
    expect(sample(during, 'db_client_connections_max', { pool_name: 'db' })).toBe(2)
    expect(sample(during, 'db_client_connections_pending_requests', { pool_name: 'db' })).toBe(8)

    // Long enough that the eight queued callers' waits land clearly above the 25 ms bucket.
    setTimeout(open, 60)
    const results = await Promise.all(callers)
    expect(results).toHaveLength(10)

    const after = await registry.metrics()
    expect(sample(after, 'db_client_connections', { pool_name: 'db', state: 'used' })).toBe(0)
    expect(sample(after, 'db_client_connections', { pool_name: 'db', state: 'idle' })).toBe(2)
    expect(sample(after, 'db_client_connections_pending_requests', { pool_name: 'db' })).toBe(0)
    expect(sample(after, 'db_client_connections_wait_time_seconds_count', { pool_name: 'db' })).toBe(10)
    expect(sample(after, 'db_client_connections_use_time_seconds_count', { pool_name: 'db' })).toBe(10)
    const waitedUnder25ms = sample(after, 'db_client_connections_wait_time_seconds_bucket', {
      pool_name: 'db',
      le: '0.025',
    })
    expect(waitedUnder25ms).toBeLessThanOrEqual(2)
    // The first two holds lasted until the gate opened.
    expect(sample(after, 'db_client_connections_use_time_seconds_sum', { pool_name: 'db' })).toBeGreaterThan(
      0.1,
    )
    expect(sample(after, 'db_client_connections_timeouts_total', { pool_name: 'db' })).toBe(0)
    await shutdown(pool)
  })

  it('turns an acquire timeout into PoolTimeoutError and counts it', async () => {
    const registry = new Registry()
    const pool = instrumentPool(makePool(1, 50), { name: 'orders', registry, retryAfterSeconds: 3 })
    const held = await pool.acquire()
    let called = false
    const err = await withResource(pool, () => {
      called = true
    }).catch((e: unknown) => e)

    expect(called).toBe(false)
    expect(err).toBeInstanceOf(PoolTimeoutError)
    expect(isGoreliableError(err)).toBe(true)
    const e = err as PoolTimeoutError
    expect(e.code).toBe(ErrorCodes.POOL_TIMEOUT)
    expect(e.code).toBe('GR_ERR_POOL_TIMEOUT')
    expect(e.statusCode).toBe(503)
    expect(e.retryAfterSeconds).toBe(3)
    expect(e.poolName).toBe('orders')
    expect(e.message).toBe('Pool "orders" had no free resource within 50 ms')
    expect((e.cause as Error).name).toBe('TimeoutError')

    let text = await registry.metrics()
    expect(sample(text, 'db_client_connections_timeouts_total', { pool_name: 'orders' })).toBe(1)
    // A timed-out acquire obtained nothing: it is counted, not timed.
    expect(sample(text, 'db_client_connections_wait_time_seconds_count', { pool_name: 'orders' })).toBe(1)

    // Counted at the pool, so a direct acquire that times out counts too.
    await expect(pool.acquire()).rejects.toThrow('ResourceRequest timed out')
    text = await registry.metrics()
    expect(sample(text, 'db_client_connections_timeouts_total', { pool_name: 'orders' })).toBe(2)
    await pool.release(held)
    await shutdown(pool)
  })

  it('works on a pool that was not instrumented', async () => {
    const pool = makePool(1, 20)
    expect(await withResource(pool, (c) => c.id)).toBe(1)
    const held = await pool.acquire()
    const err = (await withResource(pool, () => 1).catch((e: unknown) => e)) as PoolTimeoutError
    expect(err).toBeInstanceOf(PoolTimeoutError)
    expect([err.poolName, err.statusCode, err.retryAfterSeconds]).toEqual(['unnamed', 503, 1])
    await pool.release(held)
    await shutdown(pool)
  })

  it('releases on return, throw and rejection, and the same resource is lent again', async () => {
    const registry = new Registry()
    const pool = instrumentPool(makePool(1), { name: 'db', registry })
    const first = await withResource(pool, (c) => c)
    expect(pool.borrowed).toBe(0)
    expect(pool.available).toBe(1)

    const boom = new Error('boom')
    await expect(
      withResource(pool, () => {
        throw boom
      }),
    ).rejects.toBe(boom)
    expect([pool.borrowed, pool.available]).toEqual([0, 1])

    await expect(withResource(pool, async () => Promise.reject(boom))).rejects.toBe(boom)
    expect([pool.borrowed, pool.available]).toEqual([0, 1])

    // Released, not destroyed: the one connection survived all three.
    expect(await withResource(pool, (c) => c)).toBe(first)
    const text = await registry.metrics()
    expect(sample(text, 'db_client_connections_use_time_seconds_count', { pool_name: 'db' })).toBe(4)
    await shutdown(pool)
  })

  it('leaves alone a resource that fn destroyed itself', async () => {
    const registry = new Registry()
    const pool = instrumentPool(makePool(1), { name: 'db', registry })
    await withResource(pool, (c) => pool.destroy(c))
    expect([pool.borrowed, pool.pending]).toEqual([0, 0])
    expect(await withResource(pool, (c) => c.id)).toBe(2)
    const text = await registry.metrics()
    expect(sample(text, 'db_client_connections_use_time_seconds_count', { pool_name: 'db' })).toBe(2)
    await shutdown(pool)
  })

  it("times loans taken through generic-pool's own use()", async () => {
    const registry = new Registry()
    const pool = instrumentPool(makePool(1), { name: 'db', registry })
    await pool.use(async () => 1)
    await pool.use(async () => Promise.reject(new Error('x'))).catch(() => {})
    const text = await registry.metrics()
    expect(sample(text, 'db_client_connections_wait_time_seconds_count', { pool_name: 'db' })).toBe(2)
    expect(sample(text, 'db_client_connections_use_time_seconds_count', { pool_name: 'db' })).toBe(2)
    await shutdown(pool)
  })

  it('passes other acquire errors through unchanged', async () => {
    const pool = instrumentPool(makePool(1), { name: 'db', registry: new Registry() })
    await shutdown(pool)
    const err = await withResource(pool, () => 1).catch((e: unknown) => e)
    expect(err).not.toBeInstanceOf(PoolTimeoutError)
    expect((err as Error).message).toBe('pool is draining and cannot accept work')
  })

  it('reports several pools in one registry, and stops reporting a pool shut down with drain() + clear()', async () => {
    const registry = new Registry()
    const a = instrumentPool(makePool(2), { name: 'a', registry })
    const b = instrumentPool(makePool(5), { name: 'b', registry })
    await withResource(a, () => 1)
    let text = await registry.metrics()
    expect(sample(text, 'db_client_connections_max', { pool_name: 'a' })).toBe(2)
    expect(sample(text, 'db_client_connections_max', { pool_name: 'b' })).toBe(5)

    await a.clear() // clear() alone keeps the pool alive
    text = await registry.metrics()
    expect(sample(text, 'db_client_connections_max', { pool_name: 'a' })).toBe(2)

    await shutdown(a)
    text = await registry.metrics()
    expect(sample(text, 'db_client_connections', { pool_name: 'a', state: 'idle' })).toBeUndefined()
    expect(sample(text, 'db_client_connections_max', { pool_name: 'a' })).toBeUndefined()
    expect(sample(text, 'db_client_connections_pending_requests', { pool_name: 'a' })).toBeUndefined()
    expect(sample(text, 'db_client_connections_max', { pool_name: 'b' })).toBe(5)
    // Cumulative series stay, and a new pool under the name continues them.
    expect(sample(text, 'db_client_connections_wait_time_seconds_count', { pool_name: 'a' })).toBe(1)
    const a2 = instrumentPool(makePool(3), { name: 'a', registry })
    await withResource(a2, () => 1)
    text = await registry.metrics()
    expect(sample(text, 'db_client_connections_max', { pool_name: 'a' })).toBe(3)
    expect(sample(text, 'db_client_connections_wait_time_seconds_count', { pool_name: 'a' })).toBe(2)
    await Promise.all([shutdown(a2), shutdown(b)])
  })

  it('refuses a second open pool of the same name, and instrumenting a pool twice', async () => {
    const registry = new Registry()
    const pool = instrumentPool(makePool(1), { name: 'db', registry })
    const other = makePool(1)
    expect(() => instrumentPool(other, { name: 'db', registry })).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTION, option: 'name' }),
    )
    // The refused pool was left untouched and can still be instrumented under another name.
    expect(Object.hasOwn(other, 'acquire')).toBe(false)
    instrumentPool(other, { name: 'db2', registry })
    expect(() => instrumentPool(pool, { name: 'db3', registry })).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTION, option: 'pool' }),
    )
    // The same name in another registry is another family.
    instrumentPool(makePool(1), { name: 'db', registry: new Registry() })
    await Promise.all([shutdown(pool), shutdown(other)])
  })

  it('rejects invalid options with a coded TypeError naming the option', () => {
    const registry = new Registry()
    const cases: Array<[unknown, unknown, string]> = [
      [{}, { name: 'x', registry }, 'pool'],
      [makePool(1), { registry }, 'name'],
      [makePool(1), { name: '', registry }, 'name'],
      [makePool(1), { name: 'x' }, 'registry'],
      [makePool(1), { name: 'x', registry: {} }, 'registry'],
      [makePool(1), { name: 'x', registry, retryAfterSeconds: 0 }, 'retryAfterSeconds'],
      [makePool(1), { name: 'x', registry, retryAfterSeconds: 1.5 }, 'retryAfterSeconds'],
      [makePool(1), { name: 'x', registry, retryAfterSecs: 2 }, 'retryAfterSecs'],
    ]
    for (const [pool, options, option] of cases) {
      let err: unknown
      try {
        instrumentPool(pool as Pool<Conn>, options as never)
      } catch (e) {
        err = e
      }
      expect(err, option).toBeInstanceOf(InvalidOptionError)
      expect(err).toBeInstanceOf(TypeError)
      expect((err as InvalidOptionError).option).toBe(option)
      expect((err as Error).message).toContain(`"${option}"`)
    }
    expect(instrumentPoolOptionKeys).toEqual(['name', 'registry', 'retryAfterSeconds'])
  })

  it('rejects a withResource call without a pool or a function', async () => {
    const pool = makePool(1)
    await expect(withResource(pool, 'nope' as never)).rejects.toMatchObject({ option: 'fn' })
    await expect(withResource({} as never, () => 1)).rejects.toMatchObject({ option: 'pool' })
    expect(pool.borrowed).toBe(0)
  })

  it('leaves no resource borrowed after any mix of outcomes (property)', async () => {
    const outcome = fc.constantFrom('return', 'asyncReturn', 'throw', 'reject', 'destroy')
    await fc.assert(
      fc.asyncProperty(
        fc.array(outcome, { maxLength: 25 }),
        fc.integer({ min: 1, max: 4 }),
        async (ops, max) => {
          const registry = new Registry()
          const pool = instrumentPool(makePool(max), { name: 'p', registry })
          const boom = new Error('boom')
          const settled = await Promise.allSettled(
            ops.map((op, i) =>
              withResource(pool, async (conn) => {
                if (op === 'throw') throw boom
                if (op === 'reject') return Promise.reject(boom)
                if (op === 'destroy') await pool.destroy(conn)
                if (op === 'asyncReturn') await new Promise((r) => setImmediate(r))
                return i
              }),
            ),
          )
          expect([pool.borrowed, pool.pending]).toEqual([0, 0])
          settled.forEach((s, i) => {
            if (ops[i] === 'throw' || ops[i] === 'reject')
              expect(s).toEqual({ status: 'rejected', reason: boom })
            else expect(s).toEqual({ status: 'fulfilled', value: i })
          })
          const text = await registry.metrics()
          expect(sample(text, 'db_client_connections_wait_time_seconds_count', { pool_name: 'p' })).toBe(
            ops.length,
          )
          expect(sample(text, 'db_client_connections_use_time_seconds_count', { pool_name: 'p' })).toBe(
            ops.length,
          )
          expect(sample(text, 'db_client_connections', { pool_name: 'p', state: 'used' })).toBe(0)
          await shutdown(pool)
        },
      ),
      { numRuns: 100 },
    )
  })
})

describe('types', () => {
  it('infers the resource and the result, and refuses unknown options', async () => {
    const registry = new Registry()
    const pool = instrumentPool(makePool(1), { name: 'typed', registry })
    expectTypeOf(pool).toEqualTypeOf<Pool<Conn>>()
    const id = withResource(pool, (conn) => {
      expectTypeOf(conn).toEqualTypeOf<Conn>()
      return conn.id
    })
    expectTypeOf(id).toEqualTypeOf<Promise<number>>()
    expect(await id).toBe(1)
    // @ts-expect-error retryAfterSeconds is a number
    expect(() => instrumentPool(makePool(1), { name: 't2', registry, retryAfterSeconds: '1' })).toThrow()
    // @ts-expect-error unknown option
    expect(() => instrumentPool(makePool(1), { name: 't3', registry, acquireTimeoutMs: 5 })).toThrow()
    // @ts-expect-error read() must return idle, used, max and pending
    expect(() => createPoolMetrics({ name: 't4', registry, read: () => ({ idle: 1 }) })).not.toThrow()
    await shutdown(pool)
  })
})

describe('createPoolMetrics', () => {
  it('leaves out a pool whose read() throws and still reports the others', async () => {
    const registry = new Registry()
    const good = createPoolMetrics({
      name: 'good',
      registry,
      read: () => ({ idle: 1, used: 2, max: 3, pending: 4 }),
    })
    createPoolMetrics({
      name: 'bad',
      registry,
      read: () => {
        throw new Error('gone')
      },
    })
    good.observeWait(0.002)
    good.observeUse(45)
    good.timeout()
    const text = await registry.metrics()
    expect(sample(text, 'db_client_connections', { pool_name: 'good', state: 'idle' })).toBe(1)
    expect(sample(text, 'db_client_connections', { pool_name: 'good', state: 'used' })).toBe(2)
    expect(sample(text, 'db_client_connections_max', { pool_name: 'good' })).toBe(3)
    expect(sample(text, 'db_client_connections_pending_requests', { pool_name: 'good' })).toBe(4)
    expect(sample(text, 'db_client_connections_max', { pool_name: 'bad' })).toBeUndefined()
    expect(
      sample(text, 'db_client_connections_wait_time_seconds_bucket', { pool_name: 'good', le: '0.001' }),
    ).toBe(0)
    expect(
      sample(text, 'db_client_connections_wait_time_seconds_bucket', { pool_name: 'good', le: '0.0025' }),
    ).toBe(1)
    // Holds of tens of seconds get their own buckets.
    expect(
      sample(text, 'db_client_connections_use_time_seconds_bucket', { pool_name: 'good', le: '30' }),
    ).toBe(0)
    expect(
      sample(text, 'db_client_connections_use_time_seconds_bucket', { pool_name: 'good', le: '60' }),
    ).toBe(1)
    expect(sample(text, 'db_client_connections_timeouts_total', { pool_name: 'good' })).toBe(1)
    expect(sample(text, 'db_client_connections_timeouts_total', { pool_name: 'bad' })).toBe(0)
  })

  it('frees the name on close(), and close() is idempotent', async () => {
    const registry = new Registry()
    const read = () => ({ idle: 0, used: 0, max: 1, pending: 0 })
    const first = createPoolMetrics({ name: 'db', registry, read })
    first.close()
    const second = createPoolMetrics({ name: 'db', registry, read: () => ({ ...read(), max: 7 }) })
    first.close() // must not remove the second pool's source
    expect(sample(await registry.metrics(), 'db_client_connections_max', { pool_name: 'db' })).toBe(7)
    second.close()
    expect(sample(await registry.metrics(), 'db_client_connections_max', { pool_name: 'db' })).toBeUndefined()
  })

  it('rejects invalid options', () => {
    const registry = new Registry()
    const read = () => ({ idle: 0, used: 0, max: 1, pending: 0 })
    expect(() => createPoolMetrics({ name: 'x', registry, read: 1 as never })).toThrow(/"read"/)
    expect(() => createPoolMetrics({ name: 'x', registry: {} as never, read })).toThrow(/"registry"/)
    expect(() => createPoolMetrics({ registry, read } as never)).toThrow(/"name"/)
    expect(() => createPoolMetrics({ name: 'x', registry, read, extra: 1 } as never)).toThrow(/"extra"/)
    expect(createPoolMetricsOptionKeys).toEqual(['name', 'registry', 'read'])
  })

  it('passes promtool check metrics', async (ctx) => {
    const promtool = spawnSync('promtool', ['--version'])
    if (promtool.error) {
      if (process.env.CI) throw new Error('promtool is not installed (Debian package "prometheus")')
      ctx.skip('promtool not found: install the Debian package "prometheus" to lint the metric names')
    }
    const registry = new Registry()
    const pool = instrumentPool(makePool(2, 20), { name: 'db', registry })
    const held = await Promise.all([pool.acquire(), pool.acquire()])
    await withResource(pool, () => 1).catch(() => {})
    await Promise.all(held.map((c) => pool.release(c)))
    const text = await registry.metrics()
    expect(sample(text, 'db_client_connections_timeouts_total', { pool_name: 'db' })).toBe(1)
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    expect(`${lint.stdout}${lint.stderr}`).toBe('')
    expect(lint.status).toBe(0)
    await shutdown(pool)
  })
})
