// The order routes against the real PostgreSQL and NATS: what a client gets back, what lands in the
// database, and what reaches the stream.

import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BODY_LIMIT_BYTES, CLIENT_ID_HEADER, CURRENCIES } from '../src/index.js'
import {
  databaseUrl,
  deleteStream,
  dropSchema,
  type Names,
  natsUrl,
  post,
  type RunningService,
  sample,
  startOrderService,
  streamEvents,
  testPool,
  uniqueNames,
} from './helpers.js'

describe.skipIf(!databaseUrl || !natsUrl)('order routes', () => {
  const names: Names = uniqueNames()
  let service: RunningService
  let pool: pg.Pool
  let orders: string

  beforeAll(async () => {
    pool = testPool()
    service = await startOrderService(names)
    orders = `${service.url}/api/v1/orders`
  })

  afterAll(async () => {
    await service?.stop()
    await dropSchema(pool, names.schema)
    await pool.end()
    await deleteStream(natsUrl as string, names.stream)
  })

  it('creates an order: 201 with the order, a row, and an orders.created event with Nats-Msg-Id = id', async () => {
    const res = await post(orders, { amount: 1234, currency: 'EUR' })
    expect(res.status).toBe(201)
    const { id } = res.body as { id: string }
    expect(res.body).toEqual({
      id,
      amount: 1234,
      currency: 'EUR',
      status: 'pending',
      createdAt: expect.any(String),
    })
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect(new Date(res.body.createdAt as string).toISOString()).toBe(res.body.createdAt)
    expect(res.headers.get('location')).toBe(`/api/v1/orders/${id}`)

    const { rows } = await pool.query(
      `SELECT amount_cents, currency, status FROM ${names.schema}.orders WHERE id = $1`,
      [id],
    )
    expect(rows).toEqual([{ amount_cents: 1234, currency: 'EUR', status: 'pending' }])

    await expect
      .poll(async () => (await streamEvents(natsUrl as string, names.stream)).filter((e) => e.msgId === id), {
        timeout: 10_000,
      })
      .toEqual([{ msgId: id, subject: names.subject, data: res.body }])
    await expect
      .poll(async () => {
        const r = await pool.query(`SELECT published_at FROM ${names.schema}.outbox WHERE order_id = $1`, [
          id,
        ])
        return r.rows[0]?.published_at instanceof Date
      })
      .toBe(true)
  })

  it('returns an order by id; 404 for an unknown id, 400 naming the field for a malformed one', async () => {
    const created = await post(orders, { amount: 500, currency: 'USD' })
    const got = await fetch(`${orders}/${created.body.id}`)
    expect(got.status).toBe(200)
    expect(await got.json()).toEqual(created.body)

    const unknown = await fetch(`${orders}/${randomUUID()}`)
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toMatchObject({ code: 'ORDER_NOT_FOUND', field: 'id' })

    const malformed = await fetch(`${orders}/not-a-uuid`)
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'id',
      message: 'id must be a UUID',
    })
  })

  it.each([
    ['a missing amount', { currency: 'EUR' }, 'amount', /amount is required/],
    ['a missing currency', { amount: 100 }, 'currency', /currency is required/],
    [
      'an amount given as a string',
      { amount: '100', currency: 'EUR' },
      'amount',
      /amount must be an integer/,
    ],
    ['a fractional amount', { amount: 100.5, currency: 'EUR' }, 'amount', /amount must be an integer/],
    ['an amount below 100 cents', { amount: 99, currency: 'EUR' }, 'amount', /amount must be >= 100/],
    ['an amount above 10,000,000 cents', { amount: 10_000_001, currency: 'EUR' }, 'amount', /<= 10000000/],
    ['an unknown currency', { amount: 100, currency: 'XXX' }, 'currency', /currency must be one of AED, /],
    ['a lowercase currency', { amount: 100, currency: 'eur' }, 'currency', /currency must be one of/],
    ['a currency given as a number', { amount: 100, currency: 978 }, 'currency', /currency must be a string/],
    ['an unknown field', { amount: 100, currency: 'EUR', note: 'x' }, 'note', /note is not allowed/],
    ['an array', [], 'body', /body must be a JSON object/],
    ['null', null, 'body', /body must be a JSON object/],
  ])('answers 400 naming the field for %s', async (_what, body, field, message) => {
    const res = await post(orders, body)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      error: 'Bad Request',
      field,
    })
    expect(res.body.message).toMatch(message)
  })

  it('answers 400 for a body that is not JSON, an empty body, and a body over the size limit', async () => {
    const notJson = await post(orders, '{"amount": 100,')
    expect(notJson).toMatchObject({ status: 400, body: { code: 'INVALID_JSON', field: 'body' } })
    const empty = await post(orders, '')
    expect(empty).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED', field: 'body' } })
    const big = await post(
      orders,
      JSON.stringify({ amount: 100, currency: 'EUR', pad: 'x'.repeat(BODY_LIMIT_BYTES) }),
    )
    expect(big).toMatchObject({
      status: 400,
      body: {
        code: 'BODY_TOO_LARGE',
        field: 'body',
        message: `body is larger than the limit of ${BODY_LIMIT_BYTES} bytes`,
      },
    })
    const text = await fetch(orders, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    })
    expect(text.status).toBe(415)
    const form = await fetch(orders, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'amount=100&currency=EUR',
    })
    expect(form.status).toBe(415)
    expect(await form.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', field: 'content-type' })
  })

  it('accepts every listed currency, at both ends of the amount range', async () => {
    for (const [i, currency] of CURRENCIES.entries()) {
      const res = await post(orders, { amount: i % 2 === 0 ? 100 : 10_000_000, currency })
      expect(res.status, currency).toBe(201)
    }
  })

  describe('Idempotency-Key', () => {
    it('returns the same order for the same key and body: 201 again, Idempotent-Replayed, one row', async () => {
      const key = randomUUID()
      const first = await post(orders, { amount: 4200, currency: 'GBP' }, { 'idempotency-key': key })
      // The same request with its fields in another order is the same request.
      const again = await post(orders, { currency: 'GBP', amount: 4200 }, { 'idempotency-key': key })
      expect(first.status).toBe(201)
      expect(first.headers.get('idempotent-replayed')).toBeNull()
      expect(again.status).toBe(201)
      expect(again.headers.get('idempotent-replayed')).toBe('true')
      expect(again.body).toEqual(first.body)
      const { rows } = await pool.query(
        `SELECT o.id, (SELECT count(*)::int FROM ${names.schema}.outbox x WHERE x.order_id = o.id) AS events
         FROM ${names.schema}.orders o WHERE idempotency_key = $1`,
        [key],
      )
      expect(rows).toEqual([{ id: first.body.id, events: 1 }])
    })

    it('answers 422 for the same key with another body, and creates nothing', async () => {
      const key = randomUUID()
      const first = await post(orders, { amount: 4200, currency: 'GBP' }, { 'idempotency-key': key })
      const other = await post(orders, { amount: 4201, currency: 'GBP' }, { 'idempotency-key': key })
      expect(other.status).toBe(422)
      expect(other.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'Idempotency-Key' })
      const { rows } = await pool.query(`SELECT id FROM ${names.schema}.orders WHERE idempotency_key = $1`, [
        key,
      ])
      expect(rows).toEqual([{ id: first.body.id }])
    })

    it('creates one order for many concurrent requests with one key', async () => {
      const key = randomUUID()
      const answers = await Promise.all(
        Array.from({ length: 12 }, () =>
          post(orders, { amount: 777, currency: 'CHF' }, { 'idempotency-key': key }),
        ),
      )
      expect(answers.map((a) => a.status)).toEqual(Array(12).fill(201))
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1)
      expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(11)
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM ${names.schema}.orders WHERE idempotency_key = $1`,
        [key],
      )
      expect(rows[0].n).toBe(1)
    })

    it('scopes keys by client: two clients may use the same key', async () => {
      const key = randomUUID()
      const a = await post(
        orders,
        { amount: 100, currency: 'EUR' },
        { 'idempotency-key': key, [CLIENT_ID_HEADER]: 'a' },
      )
      const b = await post(
        orders,
        { amount: 100, currency: 'EUR' },
        { 'idempotency-key': key, [CLIENT_ID_HEADER]: 'b' },
      )
      expect([a.status, b.status]).toEqual([201, 201])
      expect(a.body.id).not.toBe(b.body.id)
    })

    it('answers 400 naming the header for a malformed key', async () => {
      const res = await post(orders, { amount: 100, currency: 'EUR' }, { 'idempotency-key': 'x'.repeat(256) })
      expect(res).toMatchObject({
        status: 400,
        body: { code: 'VALIDATION_FAILED', field: 'Idempotency-Key' },
      })
    })

    it('creates a new order for every request without a key', async () => {
      const a = await post(orders, { amount: 100, currency: 'EUR' })
      const b = await post(orders, { amount: 100, currency: 'EUR' })
      expect(a.body.id).not.toBe(b.body.id)
    })
  })

  it('is ready with the database check, and exports the pool, outbox and publish metrics', async () => {
    const ready = await fetch(`${service.adminUrl}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      checks: [expect.objectContaining({ name: 'pg:orders' })],
    })
    await expect
      .poll(
        async () =>
          sample(await (await fetch(`${service.adminUrl}/metrics`)).text(), 'outbox_pending_messages'),
        {
          timeout: 10_000,
        },
      )
      .toBe(0)
    const metrics = await (await fetch(`${service.adminUrl}/metrics`)).text()
    expect(sample(metrics, 'db_client_connections_max', { pool_name: 'orders' })).toBe(10)
    expect(sample(metrics, 'nats_publish_total', { stream: names.stream, outcome: 'ok' })).toBeGreaterThan(0)
    expect(sample(metrics, 'nats_publish_total', { stream: names.stream, outcome: 'duplicate' }) ?? 0).toBe(0)
    expect(
      sample(metrics, 'http_request_duration_seconds_count', {
        route: '/api/v1/orders',
        method: 'POST',
        status_code: '201',
      }),
    ).toBeGreaterThan(0)
  })

  it('answers 404 with the JSON error shape for an unknown route', async () => {
    const res = await fetch(`${service.url}/nope`)
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' })
  })
})
