// The fault proxy between pg and the real PostgreSQL: what a service's pool sees in each mode. The server
// itself is never touched; only connections through the proxy suffer.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serviceUrl } from '../../../scripts/test-services.js'
import { createFaultProxy, type FaultProxy } from '../src/index.js'

const databaseUrl = await serviceUrl('DATABASE_URL')

describe.skipIf(!databaseUrl)('fault proxy in front of PostgreSQL', () => {
  let proxy: FaultProxy
  let proxiedUrl: string
  const pools: pg.Pool[] = []

  beforeAll(async () => {
    const url = new URL(databaseUrl!)
    proxy = await createFaultProxy({ targetHost: url.hostname, targetPort: Number(url.port) || 5432 })
    url.hostname = '127.0.0.1'
    url.port = String(proxy.port)
    proxiedUrl = url.toString()
  })

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end().catch(() => {})))
    await proxy.close()
  })

  function pool(extra: pg.PoolConfig = {}) {
    const p = new pg.Pool({ connectionString: proxiedUrl, max: 2, connectionTimeoutMillis: 2000, ...extra })
    // An idle client whose socket is reset emits 'error' on the pool; a service logs it, the test ignores it.
    p.on('error', () => {})
    pools.push(p)
    return p
  }

  async function outcome(p: pg.Pool | pg.Client): Promise<string> {
    try {
      const { rows } = await p.query<{ one: number }>('select 1 as one')
      return `ok ${rows[0]?.one}`
    } catch (error) {
      const e = error as NodeJS.ErrnoException
      return `error ${e.code ?? e.message}`
    }
  }

  it('forwards queries in mode none and adds latency in mode latency', async () => {
    proxy.setFault({ mode: 'none' })
    const p = pool()
    expect(await outcome(p)).toBe('ok 1')
    proxy.setFault({ mode: 'latency', latencyMs: 100 })
    const started = performance.now()
    expect(await outcome(p)).toBe('ok 1')
    // One round trip on a warm connection: 100 ms each way at least.
    expect(performance.now() - started).toBeGreaterThanOrEqual(190)
    proxy.setFault({ mode: 'none' })
  })

  it('reset: a connected client fails, new connections fail, and the pool recovers after none', async () => {
    proxy.setFault({ mode: 'none' })
    const client = new pg.Client({ connectionString: proxiedUrl })
    client.on('error', () => {})
    await client.connect()
    expect(await outcome(client)).toBe('ok 1')
    const p = pool()
    expect(await outcome(p)).toBe('ok 1')

    proxy.setFault({ mode: 'reset' })
    expect(await outcome(client)).toMatch(/^error /)
    const during = await outcome(pool())
    expect(during).toMatch(/^error (ECONNRESET|Connection terminated)/)

    proxy.setFault({ mode: 'none' })
    // The pool dropped its reset client; the next query opens a fresh connection through the healed proxy.
    expect(await outcome(p)).toBe('ok 1')
    await client.end().catch(() => {})
  })

  it('cut: the connected client reads end of stream, new connections are closed, then it recovers', async () => {
    proxy.setFault({ mode: 'none' })
    const client = new pg.Client({ connectionString: proxiedUrl })
    client.on('error', () => {})
    await client.connect()
    expect(await outcome(client)).toBe('ok 1')

    proxy.setFault({ mode: 'cut' })
    expect(await outcome(client)).toMatch(/^error /)
    expect(await outcome(pool())).toMatch(/^error Connection terminated/)

    proxy.setFault({ mode: 'none' })
    expect(await outcome(pool())).toBe('ok 1')
    await client.end().catch(() => {})
  })

  it('blackhole: queries and connects time out instead of failing fast, and pass again after none', async () => {
    proxy.setFault({ mode: 'none' })
    const p = pool({ query_timeout: 500 })
    expect(await outcome(p)).toBe('ok 1')

    proxy.setFault({ mode: 'blackhole' })
    const started = performance.now()
    expect(await outcome(p)).toBe('error Query read timeout')
    expect(performance.now() - started).toBeGreaterThanOrEqual(450)
    expect(await outcome(pool({ connectionTimeoutMillis: 500 }))).toMatch(/timeout/i)

    proxy.setFault({ mode: 'none' })
    expect(await outcome(pool())).toBe('ok 1')
  })
})
