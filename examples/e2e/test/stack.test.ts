// The example stack end to end, through the gateway as a client sees it: a token, an order, the order's row
// in PostgreSQL, its event on orders.created and the notification the worker delivers; every way a request
// is refused (401, 400 naming the field, 422); an order service that is gone (503 with Retry-After, never
// 502); and NATS taken away and given back (orders keep coming, their events follow).

import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serviceUrl } from '../../../scripts/test-services.js'
import { findNatsServer, type PrivateNats, startPrivateNats } from './support/nats-server.js'
import { sample, streamEvents } from './support/net.js'
import { CLIENT, type Stack, startStack } from './support/stack.js'

const databaseUrl = await serviceUrl('DATABASE_URL')
const natsBinary = findNatsServer()
if (natsBinary === undefined) {
  const message =
    'no nats-server binary (PATH, /usr/sbin, or NATS_SERVER_BIN) to run a private JetStream server'
  if (process.env.CI) throw new Error(`${message} (CI is set, so this fails the run)`)
  console.warn(`skipping: ${message}`)
}

const ORDERS = 'ORDERS'

describe.skipIf(!databaseUrl || !natsBinary)('the example stack, through the gateway', () => {
  let nats: PrivateNats
  let stack: Stack
  let pool: pg.Pool
  let token: string

  const api = (path: string, init: RequestInit & { headers?: Record<string, string> } = {}, bearer = token) =>
    fetch(`${stack.gateway.url}${path}`, {
      ...init,
      headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...init.headers },
    })
  const postOrder = (body: unknown, headers: Record<string, string> = {}, bearer = token) =>
    api(
      '/api/v1/orders',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      },
      bearer,
    )
  const delivered = async () => {
    const res = await fetch(`${stack.provider.url}/v1/messages`)
    return ((await res.json()) as { messages: { idempotencyKey: string }[] }).messages.map(
      (m) => m.idempotencyKey,
    )
  }

  beforeAll(async () => {
    nats = await startPrivateNats(natsBinary as string)
    pool = new pg.Pool({ connectionString: databaseUrl as string, max: 2 })
    stack = await startStack({ databaseUrl: databaseUrl as string, natsUrl: nats.url })
    if (stack.worker === undefined)
      console.warn('examples/notification-worker is not built: notifications are not checked')
    const res = await fetch(`${stack.gateway.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: CLIENT.id, client_secret: CLIENT.secret }),
    })
    expect(res.status).toBe(200)
    token = ((await res.json()) as { access_token: string }).access_token
  })

  afterAll(async () => {
    await stack?.stop()
    if (stack) await pool.query(`DROP SCHEMA IF EXISTS ${stack.schema} CASCADE`)
    await pool?.end()
    await nats?.dispose()
  })

  it('creates an order: 201, the row, the orders.created event, and the notification within seconds', async () => {
    const key = randomUUID()
    const res = await postOrder({ amount: 2599, currency: 'EUR' }, { 'idempotency-key': key })
    expect(res.status).toBe(201)
    const order = (await res.json()) as { id: string }
    expect(order).toEqual({
      id: expect.any(String),
      amount: 2599,
      currency: 'EUR',
      status: 'pending',
      createdAt: expect.any(String),
    })

    const got = await api(`/api/v1/orders/${order.id}`)
    expect(got.status).toBe(200)
    expect(await got.json()).toEqual(order)

    const { rows } = await pool.query(
      `SELECT amount_cents, currency, client_id, idempotency_key FROM ${stack.schema}.orders WHERE id = $1`,
      [order.id],
    )
    expect(rows).toEqual([
      { amount_cents: 2599, currency: 'EUR', client_id: CLIENT.id, idempotency_key: key },
    ])

    await expect
      .poll(async () => (await streamEvents(nats.url, ORDERS)).filter((e) => e.msgId === order.id), {
        timeout: 10_000,
      })
      .toEqual([{ msgId: order.id, subject: 'orders.created', data: order }])

    if (stack.worker) {
      await expect.poll(delivered, { timeout: 15_000, interval: 200 }).toContain(order.id)
    }
  })

  it('answers 401 without a token, and with a bad, tampered or expired one', async () => {
    const [h, p, s] = token.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString())
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${s}`
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(CLIENT.id)
      .setIssuer(claims.iss)
      .setAudience(claims.aud)
      .setIssuedAt(claims.iat - 900)
      .setExpirationTime(claims.iat - 600)
      .sign(new TextEncoder().encode(stack.jwtSecret))
    const cases: [string, string, string][] = [
      ['none', '', 'MISSING_TOKEN'],
      ['garbage', 'not-a-jwt', 'INVALID_TOKEN'],
      ['tampered', tampered, 'INVALID_TOKEN'],
      ['expired', expired, 'TOKEN_EXPIRED'],
    ]
    for (const [what, bearer, code] of cases) {
      for (const res of [
        await postOrder({ amount: 100, currency: 'EUR' }, {}, bearer),
        await api('/api/v1/orders/x', {}, bearer),
      ]) {
        expect(res.status, what).toBe(401)
        expect(((await res.json()) as { code: string }).code, what).toBe(code)
      }
    }
    const badClient = await fetch(`${stack.gateway.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: CLIENT.id, client_secret: 'wrong' }),
    })
    expect(badClient.status).toBe(401)
  })

  it.each([
    ['a missing field', { currency: 'EUR' }, 'VALIDATION_FAILED', 'amount'],
    ['a wrong type', { amount: '1000', currency: 'EUR' }, 'VALIDATION_FAILED', 'amount'],
    ['an amount below the range', { amount: 99, currency: 'EUR' }, 'VALIDATION_FAILED', 'amount'],
    ['an amount above the range', { amount: 10_000_001, currency: 'EUR' }, 'VALIDATION_FAILED', 'amount'],
    ['an unknown currency', { amount: 1000, currency: 'ABC' }, 'VALIDATION_FAILED', 'currency'],
    ['a body that is not JSON', '{"amount": 1000, "currency": ', 'INVALID_JSON', 'body'],
    [
      'a body over the size limit',
      JSON.stringify({ amount: 1000, currency: 'EUR', note: 'x'.repeat(20_000) }),
      'BODY_TOO_LARGE',
      'body',
    ],
  ])('answers 400 for %s, naming the field', async (_what, body, code, field) => {
    const res = await postOrder(body)
    expect(res.status).toBe(400)
    const answer = (await res.json()) as { code: string; field: string; message: string }
    expect(answer).toMatchObject({ statusCode: 400, code, field })
    expect(answer.message).toContain(field)
  })

  it('returns the same order for an idempotent retry, and 422 when the key is reused with another body', async () => {
    const key = randomUUID()
    const first = await postOrder({ amount: 1500, currency: 'USD' }, { 'idempotency-key': key })
    const retry = await postOrder({ amount: 1500, currency: 'USD' }, { 'idempotency-key': key })
    expect([first.status, retry.status]).toEqual([201, 201])
    expect(retry.headers.get('idempotent-replayed')).toBe('true')
    const firstOrder = (await first.json()) as { id: string }
    expect(((await retry.json()) as { id: string }).id).toBe(firstOrder.id)

    const reused = await postOrder({ amount: 1600, currency: 'USD' }, { 'idempotency-key': key })
    expect(reused.status).toBe(422)
    expect(await reused.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'Idempotency-Key' })

    const { rows } = await pool.query(`SELECT id FROM ${stack.schema}.orders WHERE idempotency_key = $1`, [
      key,
    ])
    expect(rows).toEqual([{ id: firstOrder.id }])
    // One event for the one order, however often it was asked for.
    await expect
      .poll(
        async () => (await streamEvents(nats.url, ORDERS)).filter((e) => e.msgId === firstOrder.id).length,
        {
          timeout: 10_000,
        },
      )
      .toBe(1)
  })

  it('keeps taking orders while NATS is down, and publishes each event once when it is back', async () => {
    await nats.stop()
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const res = await postOrder({ amount: 3000 + i, currency: 'GBP' }, { 'idempotency-key': randomUUID() })
      expect(res.status).toBe(201)
      ids.push(((await res.json()) as { id: string }).id)
    }
    const pending = await pool.query(
      `SELECT order_id FROM ${stack.schema}.outbox WHERE published_at IS NULL AND order_id = ANY($1::uuid[])`,
      [ids],
    )
    expect(pending.rows).toHaveLength(3)
    const metrics = await (await fetch(`${stack.orderService.adminUrl}/metrics`)).text()
    expect(sample(metrics, 'outbox_pending_messages')).toBeGreaterThanOrEqual(3)

    await nats.start()
    await expect
      .poll(
        async () => {
          const events = await streamEvents(nats.url, ORDERS)
          return ids.map((id) => events.filter((e) => e.msgId === id).length)
        },
        { timeout: 20_000, interval: 250 },
      )
      .toEqual([1, 1, 1])
    await expect
      .poll(async () => {
        const r = await pool.query(
          `SELECT count(*)::int AS n FROM ${stack.schema}.outbox WHERE published_at IS NULL AND order_id = ANY($1::uuid[])`,
          [ids],
        )
        return r.rows[0].n
      })
      .toBe(0)
    if (stack.worker) {
      await expect.poll(delivered, { timeout: 20_000, interval: 250 }).toEqual(expect.arrayContaining(ids))
    }
  })

  it('answers 503 with Retry-After, never 502, once the order service is stopped', async () => {
    await stack.orderService.stop()
    const codes = new Set<string>()
    const deadline = Date.now() + 3000
    while (Date.now() < deadline) {
      for (const res of [
        await postOrder({ amount: 100, currency: 'EUR' }, { 'idempotency-key': randomUUID() }),
        await postOrder({ amount: 100, currency: 'EUR' }),
        await api(`/api/v1/orders/${randomUUID()}`),
      ]) {
        expect(res.status).toBe(503)
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
        codes.add(((await res.json()) as { code: string }).code)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    // Refused connections until a readiness check fails (or fails first, if it ran while the order service
    // was shutting down), then the open breaker answers alone, without trying to connect.
    expect([...codes].every((c) => c === 'GR_ERR_UPSTREAM_UNAVAILABLE' || c === 'GR_ERR_BREAKER_OPEN')).toBe(
      true,
    )
    expect(codes).toContain('GR_ERR_BREAKER_OPEN')
    const metrics = await (await fetch(`${stack.gateway.adminUrl}/metrics`)).text()
    expect(sample(metrics, 'circuit_breaker_state', { name: 'order-service', state: 'open' })).toBe(1)
    expect(sample(metrics, 'http_request_duration_seconds_count', { status_code: '502' })).toBeUndefined()
  })
})
