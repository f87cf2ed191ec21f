// Forwarding to the order service, against stand-ins on real sockets: what is passed on, what comes back,
// when a request is retried on another instance (and when never), and every way the order service can be
// unavailable answered 503 with Retry-After, never 502.

import { afterEach, describe, expect, it } from 'vitest'
import { BODY_LIMIT_BYTES } from '../src/index.js'
import { metrics, type RunningGateway, sample, startGateway, token } from './helpers.js'
import { closedUrl, type StubUpstream, startStubUpstream } from './stub-upstream.js'

const ORDER = JSON.stringify({ amount: 1234, currency: 'EUR' })

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

async function upstream(...args: Parameters<typeof startStubUpstream>): Promise<StubUpstream> {
  const u = await startStubUpstream(...args)
  cleanup.push(() => u.close())
  return u
}
async function gateway(
  ...args: Parameters<typeof startGateway>
): Promise<RunningGateway & { token: string }> {
  const g = await startGateway(...args)
  cleanup.push(() => g.stop())
  return { ...g, token: await token(g.url) }
}

function postOrder(g: { url: string; token: string }, headers: Record<string, string> = {}, body = ORDER) {
  return fetch(`${g.url}/api/v1/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${g.token}`, ...headers },
    body,
  })
}
function getOrder(g: { url: string; token: string }, id = '3f1c2b9e-4a7d-4c1e-9b2a-8d6e5f4a3b2c') {
  return fetch(`${g.url}/api/v1/orders/${id}`, { headers: { authorization: `Bearer ${g.token}` } })
}

describe('forwarding', () => {
  it('passes the body as sent, the Idempotency-Key, the client and a request id; relays the answer', async () => {
    const u = await upstream({
      status: 201,
      body: { id: 'o-1' },
      headers: { location: '/api/v1/orders/o-1', 'idempotent-replayed': 'true', 'x-internal': 'secret' },
    })
    const g = await gateway({ orderServiceUrls: [u.url] })
    const body = '{ "currency": "EUR",   "amount": 1234 }'
    const res = await postOrder(g, { 'idempotency-key': 'k-1', 'x-client-id': 'forged' }, body)
    expect(res.status).toBe(201)
    expect(await res.json()).toEqual({ id: 'o-1' })
    expect(res.headers.get('location')).toBe('/api/v1/orders/o-1')
    expect(res.headers.get('idempotent-replayed')).toBe('true')
    expect(res.headers.get('x-internal')).toBeNull()
    const [r] = u.received
    expect(r).toMatchObject({ method: 'POST', url: '/api/v1/orders', body })
    expect(r?.headers).toMatchObject({
      'content-type': 'application/json',
      'idempotency-key': 'k-1',
      // The token's subject, never what the client claims.
      'x-client-id': 'shop',
      'x-request-id': expect.any(String),
    })
    expect(r?.headers.authorization).toBeUndefined()
  })

  it('forwards GET /api/v1/orders/:id with the id encoded', async () => {
    const u = await upstream({ status: 200, body: { id: 'a b' } })
    const g = await gateway({ orderServiceUrls: [u.url] })
    const res = await getOrder(g, 'a%20b')
    expect(res.status).toBe(200)
    expect(u.received[0]?.url).toBe('/api/v1/orders/a%20b')
  })

  it('relays 4xx answers with their body, and they never open the breaker', async () => {
    const u = await upstream()
    const g = await gateway({ orderServiceUrls: [u.url], breaker: { volumeThreshold: 2 } })
    for (const [status, code] of [
      [400, 'VALIDATION_FAILED'],
      [404, 'ORDER_NOT_FOUND'],
      [422, 'IDEMPOTENCY_KEY_REUSED'],
    ] as const) {
      const body = { statusCode: status, code, error: 'x', message: 'why', field: 'amount' }
      u.behave({ status, body })
      for (let i = 0; i < 5; i++) {
        const res = await postOrder(g)
        expect(res.status).toBe(status)
        expect(await res.json()).toEqual(body)
      }
    }
    const text = await metrics(g)
    expect(sample(text, 'circuit_breaker_state', { name: 'order-service', state: 'closed' })).toBe(1)
    expect(sample(text, 'circuit_breaker_events_total', { name: 'order-service', event: 'failure' })).toBe(0)
  })

  it('answers 400 itself for a body over the size limit, without forwarding it', async () => {
    const u = await upstream()
    const g = await gateway({ orderServiceUrls: [u.url] })
    const res = await postOrder(g, {}, JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT_BYTES) }))
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 'BODY_TOO_LARGE', field: 'body' })
    expect(u.received).toHaveLength(0)
  })
})

describe('when the order service is unavailable', () => {
  it('answers 503 with Retry-After when it is unreachable, never 502', async () => {
    const g = await gateway({ orderServiceUrls: [await closedUrl()] })
    for (const res of [await postOrder(g, { 'idempotency-key': 'k' }), await getOrder(g)]) {
      expect(res.status).toBe(503)
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(await res.json()).toMatchObject({ code: 'GR_ERR_UPSTREAM_UNAVAILABLE' })
    }
  })

  it('answers 503 with Retry-After when it does not answer in time', async () => {
    const u = await upstream({ delayMs: 2000, status: 201 })
    const g = await gateway({ orderServiceUrls: [u.url], upstreamTimeoutMs: 200 })
    const res = await postOrder(g)
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).not.toBeNull()
    expect(await res.json()).toMatchObject({ code: 'GR_ERR_UPSTREAM_UNAVAILABLE' })
  })

  it('opens the breaker on 5xx answers: then 503 GR_ERR_BREAKER_OPEN with Retry-After, without calling it', async () => {
    const u = await upstream({ status: 500, body: { code: 'INTERNAL_ERROR' } })
    const g = await gateway({
      orderServiceUrls: [u.url],
      breaker: { volumeThreshold: 3, resetTimeoutMs: 30_000 },
    })
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) statuses.push((await postOrder(g)).status)
    // Until it opens, the order service's own 5xx answers are relayed (a 500 stays a 500, never a 502).
    expect(statuses).toEqual([500, 500, 500])
    const calls = u.received.length
    const res = await postOrder(g)
    expect(res.status).toBe(503)
    const retryAfter = Number(res.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(30)
    expect(await res.json()).toMatchObject({ code: 'GR_ERR_BREAKER_OPEN' })
    expect(u.received.length).toBe(calls)
    expect(sample(await metrics(g), 'circuit_breaker_state', { name: 'order-service', state: 'open' })).toBe(
      1,
    )
  })

  it('holds the breaker open while no instance is ready, and closes it when one is', async () => {
    const u = await upstream({ status: 200, body: { id: 'x' } })
    u.setReady(503)
    const g = await gateway({
      orderServiceUrls: [u.url],
      orderServiceReadyUrls: [u.readyUrl],
      healthCheckIntervalMs: 200,
    })
    await expect.poll(async () => (await getOrder(g)).status, { timeout: 5000 }).toBe(503)
    // A request may have gone through before the first check answered; none goes through after it.
    const calls = u.received.length
    const res = await getOrder(g)
    expect(res.status).toBe(503)
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await res.json()).toMatchObject({ code: 'GR_ERR_BREAKER_OPEN' })
    expect(u.received).toHaveLength(calls)
    u.setReady(200)
    await expect.poll(async () => (await getOrder(g)).status, { timeout: 5000 }).toBe(200)
  })
})

describe('failover between order-service instances', () => {
  it('retries a POST carrying an Idempotency-Key on the next instance after a connection reset', async () => {
    const bad = await upstream({ reset: true })
    const good = await upstream({ status: 201, body: { id: 'o-2' } })
    const g = await gateway({ orderServiceUrls: [bad.url, good.url] })
    const res = await postOrder(g, { 'idempotency-key': 'k-2' })
    expect(res.status).toBe(201)
    expect(await res.json()).toEqual({ id: 'o-2' })
    expect(bad.received).toHaveLength(1)
    expect(good.received[0]?.headers['idempotency-key']).toBe('k-2')
    expect(sample(await metrics(g), 'gateway_upstream_retries_total', { upstream: 'order-service' })).toBe(1)
  })

  it('retries a POST with a key when the first instance refuses connections', async () => {
    const good = await upstream({ status: 201, body: { id: 'o-3' } })
    const g = await gateway({ orderServiceUrls: [await closedUrl(), good.url] })
    expect((await postOrder(g, { 'idempotency-key': 'k-3' })).status).toBe(201)
  })

  it('never retries a POST without an Idempotency-Key: 503, and the other instance never sees it', async () => {
    const bad = await upstream({ reset: true })
    const good = await upstream({ status: 201 })
    const g = await gateway({ orderServiceUrls: [bad.url, good.url] })
    // Round robin: the first request goes to the first instance.
    const res = await postOrder(g)
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).not.toBeNull()
    expect(bad.received).toHaveLength(1)
    expect(good.received).toHaveLength(0)
    expect(sample(await metrics(g), 'gateway_upstream_retries_total', { upstream: 'order-service' })).toBe(0)
  })

  it('sends a POST without a key to the next instance when the first refused the connection: it never got it', async () => {
    const good = await upstream({ status: 201, body: { id: 'o-6' } })
    const g = await gateway({ orderServiceUrls: [await closedUrl(), good.url] })
    expect((await postOrder(g)).status).toBe(201)
    expect(good.received).toHaveLength(1)
    expect(sample(await metrics(g), 'gateway_upstream_retries_total', { upstream: 'order-service' })).toBe(1)
  })

  it('retries a GET, which is idempotent, without a key', async () => {
    const good = await upstream({ status: 200, body: { id: 'o-4' } })
    const g = await gateway({ orderServiceUrls: [await closedUrl(), good.url] })
    expect((await getOrder(g)).status).toBe(200)
  })

  it('never retries after an answer other than 503, even a 500: the order service has seen the request', async () => {
    const failing = await upstream({ status: 500, body: { code: 'INTERNAL_ERROR' } })
    const good = await upstream({ status: 201 })
    const g = await gateway({ orderServiceUrls: [failing.url, good.url] })
    const res = await postOrder(g, { 'idempotency-key': 'k-5' })
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({ code: 'INTERNAL_ERROR' })
    expect(good.received).toHaveLength(0)
  })

  it('sends an idempotent request an instance declined with 503 to the next instance', async () => {
    const declining = await upstream({
      status: 503,
      body: { code: 'GR_ERR_POOL_TIMEOUT' },
      headers: { 'retry-after': '1' },
    })
    const good = await upstream({ status: 201, body: { id: 'o-7' } })
    const g = await gateway({ orderServiceUrls: [declining.url, good.url] })
    const res = await postOrder(g, { 'idempotency-key': 'k-7' })
    expect(res.status).toBe(201)
    expect(await res.json()).toEqual({ id: 'o-7' })
    expect(declining.received).toHaveLength(1)
    expect(sample(await metrics(g), 'gateway_upstream_retries_total', { upstream: 'order-service' })).toBe(1)
  })

  it('relays a 503 to a POST without a key, and the last instance’s 503 when all decline', async () => {
    const a = await upstream({
      status: 503,
      body: { code: 'GR_ERR_POOL_TIMEOUT' },
      headers: { 'retry-after': '1' },
    })
    const b = await upstream({
      status: 503,
      body: { code: 'GR_ERR_POOL_TIMEOUT' },
      headers: { 'retry-after': '2' },
    })
    const g = await gateway({ orderServiceUrls: [a.url, b.url] })
    const unkeyed = await postOrder(g)
    expect(unkeyed.status).toBe(503)
    expect(unkeyed.headers.get('retry-after')).toBe('1')
    expect(b.received).toHaveLength(0)
    // Round robin: this one starts at b, then tries a.
    const keyed = await postOrder(g, { 'idempotency-key': 'k-8' })
    expect(keyed.status).toBe(503)
    expect(keyed.headers.get('retry-after')).toBe('1')
    expect(await keyed.json()).toEqual({ code: 'GR_ERR_POOL_TIMEOUT' })
    expect([a.received.length, b.received.length]).toEqual([2, 1])
  })

  it('adds Retry-After to a 503 that came without one (Fastify’s answer while an instance closes)', async () => {
    const closing = await upstream({
      status: 503,
      body: { error: 'Service Unavailable', message: 'Service Unavailable', statusCode: 503 },
    })
    const g = await gateway({ orderServiceUrls: [closing.url] })
    const res = await postOrder(g, { 'idempotency-key': 'k-9' })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('5')
  })
  it('takes an instance whose /readyz fails out of the rotation: no request fails, none reaches it', async () => {
    const a = await upstream({ status: 201 })
    const b = await upstream({ status: 201 })
    a.setReady(503)
    const g = await gateway({
      orderServiceUrls: [a.url, b.url],
      orderServiceReadyUrls: [a.readyUrl, b.readyUrl],
      healthCheckIntervalMs: 100,
    })
    const aName = `order-service@${new URL(a.url).host}`
    await expect
      .poll(async () => sample(await metrics(g), 'circuit_breaker_state', { name: aName, state: 'open' }), {
        timeout: 5000,
      })
      .toBe(1)
    const before = a.received.length
    const statuses = new Set<number>()
    for (let i = 0; i < 10; i++) statuses.add((await postOrder(g)).status)
    expect([...statuses]).toEqual([201])
    expect(a.received).toHaveLength(before)
    const text = await metrics(g)
    expect(sample(text, 'circuit_breaker_state', { name: 'order-service', state: 'closed' })).toBe(1)
    // Back in the rotation once ready again.
    a.setReady(200)
    await expect
      .poll(async () => sample(await metrics(g), 'circuit_breaker_state', { name: aName, state: 'closed' }), {
        timeout: 5000,
      })
      .toBe(1)
    for (let i = 0; i < 4; i++) expect((await postOrder(g)).status).toBe(201)
    expect(a.received.length).toBeGreaterThan(before)
  })

  it('loses no request, keyed or not, while one of two instances goes away', async () => {
    const a = await upstream({ status: 201 })
    const b = await upstream({ status: 201 })
    const g = await gateway({ orderServiceUrls: [a.url, b.url], breaker: { volumeThreshold: 2 } })
    const statuses: number[] = []
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) {
        statuses.push((await postOrder(g, i % 2 === 0 ? { 'idempotency-key': `k-${n}-${i}` } : {})).status)
      }
    }
    await send(4)
    await a.close()
    await send(20)
    expect(statuses.filter((s) => s !== 201)).toEqual([])
    // The dead instance's breaker opened, so later requests went straight to the live one.
    const text = await metrics(g)
    expect(
      sample(text, 'circuit_breaker_state', { name: `order-service@${new URL(a.url).host}`, state: 'open' }),
    ).toBe(1)
    expect(sample(text, 'circuit_breaker_state', { name: 'order-service', state: 'closed' })).toBe(1)
  })

  it('answers 503 with the soonest Retry-After when every instance is out of the rotation', async () => {
    const a = await upstream({ status: 201 })
    const b = await upstream({ status: 201 })
    a.setReady(503)
    b.setReady(503)
    const g = await gateway({
      orderServiceUrls: [a.url, b.url],
      orderServiceReadyUrls: [a.readyUrl, b.readyUrl],
      healthCheckIntervalMs: 100,
    })
    await expect.poll(async () => (await postOrder(g)).status, { timeout: 5000 }).toBe(503)
    const calls = a.received.length + b.received.length
    const res = await postOrder(g)
    expect(res.status).toBe(503)
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await res.json()).toMatchObject({ code: 'GR_ERR_BREAKER_OPEN' })
    expect(a.received.length + b.received.length).toBe(calls)
  })

  it('spreads requests over the instances', async () => {
    const a = await upstream({ status: 200 })
    const b = await upstream({ status: 200 })
    const g = await gateway({ orderServiceUrls: [a.url, b.url] })
    for (let i = 0; i < 6; i++) expect((await getOrder(g)).status).toBe(200)
    expect([a.received.length, b.received.length]).toEqual([3, 3])
  })
})
