// The k6 script runs here against recording stand-ins of k6's modules (vitest.config.ts aliases k6,
// k6/http and k6/metrics): its options are read as k6 would read them, and setup() and the default
// function are called like k6 calls them. There is no k6 binary on these machines.
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { type K6Request, resetRuntime, runtime } from './support/k6/runtime.js'
import { K6_SCRIPT } from './support/paths.js'

interface Setup {
  token: string
  expiresAt: number
  runId: string
}
interface Script {
  options: { stages: { duration: string; target: number }[]; thresholds: Record<string, string[]> }
  setup(): Setup
  default(data: Setup): void
}

const globals = globalThis as { __ENV?: Record<string, string>; __VU?: number; __ITER?: number }

async function load(env: Record<string, string> = {}): Promise<Script> {
  globals.__ENV = env
  globals.__VU = 1
  globals.__ITER = 0
  vi.resetModules()
  return (await import(pathToFileURL(K6_SCRIPT).href)) as Script
}

/** A gateway that issues tokens for demo/demo-secret and creates orders for a valid bearer token. */
function gateway(options: { expiresIn?: number; orderStatus?: number } = {}) {
  let issued = 0
  runtime.answer = (req: K6Request) => {
    const path = new URL(req.url).pathname
    if (req.method === 'POST' && path === '/auth/token') {
      const body = JSON.parse(req.body ?? '{}')
      if (body.client_id !== 'demo' || body.client_secret !== 'demo-secret') return { status: 401 }
      issued++
      return {
        status: 200,
        body: { access_token: `t${issued}`, token_type: 'Bearer', expires_in: options.expiresIn ?? 900 },
      }
    }
    if (req.method === 'POST' && path === '/api/v1/orders') {
      if (!/^Bearer t\d+$/.test(req.headers.Authorization ?? '')) return { status: 401 }
      const status = options.orderStatus ?? 201
      return status === 201
        ? { status, body: { id: `o${runtime.requests.length}`, ...JSON.parse(req.body!) } }
        : { status }
    }
    return { status: 404 }
  }
}

beforeEach(() => resetRuntime())

describe('examples/load/k6/orders.js', () => {
  it('ramps to 100 VUs over 2 minutes, holds 5, ramps down over 1', async () => {
    const { options } = await load()
    expect(options.stages).toEqual([
      { duration: '2m', target: 100 },
      { duration: '5m', target: 100 },
      { duration: '1m', target: 0 },
    ])
  })

  it('fails the run on more than 1% failed requests, a p99 over 500 ms, or 0.5% order errors', async () => {
    const { options } = await load()
    expect(options.thresholds).toEqual({
      http_req_failed: ['rate<0.01'],
      http_req_duration: ['p(99)<500'],
      order_errors: ['rate<0.005'],
    })
    expect(runtime.metrics.get('order_errors')?.type).toBe('rate')
    // And as text, the way a reader of the script sees it.
    const text = readFileSync(K6_SCRIPT, 'utf8')
    for (const threshold of [
      "http_req_failed: ['rate<0.01']",
      "http_req_duration: ['p(99)<500']",
      "order_errors: ['rate<0.005']",
    ]) {
      expect(text).toContain(threshold)
    }
  })

  it('setup() gets a token with the client credentials from the environment', async () => {
    const script = await load({
      BASE_URL: 'http://gateway:8080/',
      CLIENT_ID: 'demo',
      CLIENT_SECRET: 'demo-secret',
    })
    gateway()
    const data = script.setup()
    expect(data.token).toBe('t1')
    expect(runtime.requests).toHaveLength(1)
    const [req] = runtime.requests
    expect(req).toMatchObject({ method: 'POST', url: 'http://gateway:8080/auth/token' })
    expect(req!.headers['Content-Type']).toBe('application/json')
    expect(JSON.parse(req!.body!)).toEqual({ client_id: 'demo', client_secret: 'demo-secret' })
  })

  it('setup() stops the run when the gateway refuses the credentials', async () => {
    const script = await load({ CLIENT_SECRET: 'wrong' })
    gateway()
    expect(() => script.setup()).toThrow(/\/auth\/token answered 401/)
  })

  it('each iteration creates an order with amount, currency, the token and a fresh Idempotency-Key', async () => {
    const script = await load()
    gateway()
    const data = script.setup()
    for (let i = 0; i < 50; i++) {
      globals.__ITER = i
      script.default(data)
    }
    const orders = runtime.requests.filter((r) => r.url === 'http://127.0.0.1:8080/api/v1/orders')
    expect(orders).toHaveLength(50)
    for (const r of orders) {
      expect(r.method).toBe('POST')
      expect(r.headers.Authorization).toBe('Bearer t1')
      expect(r.headers['Content-Type']).toBe('application/json')
      const body = JSON.parse(r.body!)
      expect(Object.keys(body).sort()).toEqual(['amount', 'currency'])
      expect(Number.isInteger(body.amount) && body.amount >= 100 && body.amount <= 10_000_000).toBe(true)
      expect(body.currency).toMatch(/^[A-Z]{3}$/)
    }
    const keys = orders.map((r) => r.headers['Idempotency-Key'])
    expect(new Set(keys).size).toBe(50)
    expect(runtime.metrics.get('order_errors')?.values).toEqual(Array(50).fill(false))
    expect(runtime.sleeps.every((s) => s > 0)).toBe(true)
  })

  it('counts every order that was not created as an order error', async () => {
    const script = await load()
    gateway({ orderStatus: 503 })
    const data = script.setup()
    script.default(data)
    script.default(data)
    expect(runtime.metrics.get('order_errors')?.values).toEqual([true, true])
  })

  it('renews the token before it expires instead of failing on 401s', async () => {
    const script = await load()
    // Expires 10 s after issue: inside the 30 s renewal margin, so the first iteration renews it.
    gateway({ expiresIn: 10 })
    const data = script.setup()
    script.default(data)
    const paths = runtime.requests.map((r) => new URL(r.url).pathname)
    expect(paths).toEqual(['/auth/token', '/auth/token', '/api/v1/orders'])
    expect(runtime.requests[2]!.headers.Authorization).toBe('Bearer t2')
    expect(runtime.metrics.get('order_errors')?.values).toEqual([false])
  })
})
