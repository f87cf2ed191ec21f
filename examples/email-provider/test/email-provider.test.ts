import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { createEmailProvider, EmailProviderOptionError, type MessageList } from '../src/index.js'

const message = {
  to: 'customer@example.com',
  subject: 'Order confirmed',
  body: 'Your order ord_1 is confirmed.',
}

let app: FastifyInstance
afterEach(async () => {
  await app?.close()
})

function send(key: string | undefined, payload: unknown = message) {
  return app.inject({
    method: 'POST',
    url: '/v1/messages',
    headers: key === undefined ? {} : { 'idempotency-key': key },
    payload: payload as object,
  })
}

async function list(query = ''): Promise<MessageList> {
  const res = await app.inject({ method: 'GET', url: `/v1/messages${query}` })
  expect(res.statusCode).toBe(200)
  return res.json()
}

function control(payload: unknown, method: 'PUT' | 'POST' = 'PUT') {
  return app.inject({ method, url: '/control', payload: payload as object })
}

describe('POST /v1/messages', () => {
  it('delivers once per idempotency key: 201, then 200 with the original record', async () => {
    app = createEmailProvider()
    const first = await send('ord_1')
    expect(first.statusCode).toBe(201)
    const record = first.json()
    expect(record).toMatchObject({ ...message, idempotencyKey: 'ord_1' })
    expect(record.id).toMatch(/^msg_/)

    const again = await send('ord_1', { ...message, body: 'a retry may even differ' })
    expect(again.statusCode).toBe(200)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json()).toEqual(record)

    const listed = await list()
    expect(listed.count).toBe(1)
    expect(listed.messages[0]).toMatchObject({ id: record.id, deliveryAttempts: 2 })
    expect(listed.attempts).toEqual({ ord_1: 2 })
    expect(listed.stats).toMatchObject({ requests: 2, delivered: 1, replayed: 1 })
  })

  it('never delivers twice under concurrent retries of one key', async () => {
    app = createEmailProvider({ faults: { latencyMs: 20 } })
    const results = await Promise.all(Array.from({ length: 20 }, () => send('ord_same')))
    const codes = results.map((r) => r.statusCode).sort()
    expect(codes.filter((c) => c === 201)).toHaveLength(1)
    expect(codes.filter((c) => c === 200)).toHaveLength(19)
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1)
    expect((await list()).count).toBe(1)
  })

  it('lists deliveries in order and filters by key', async () => {
    app = createEmailProvider()
    for (const key of ['a', 'b', 'c']) expect((await send(key)).statusCode).toBe(201)
    const all = await list()
    expect(all.messages.map((m) => m.idempotencyKey)).toEqual(['a', 'b', 'c'])
    const one = await list('?idempotencyKey=b')
    expect(one.count).toBe(1)
    expect(one.messages[0]?.idempotencyKey).toBe('b')
    expect(one.attempts).toEqual({ b: 1 })
    expect((await list('?idempotencyKey=zzz')).count).toBe(0)
  })

  it('answers 400 without an Idempotency-Key and delivers nothing', async () => {
    app = createEmailProvider()
    const res = await send(undefined)
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(/Idempotency-Key/)
    const listed = await list()
    expect(listed.count).toBe(0)
    expect(listed.stats).toMatchObject({ requests: 1, invalid: 1, delivered: 0 })
  })

  it.each([
    ['a missing field', { subject: 's', body: 'b' }, 'body.to'],
    ['a recipient that is no address', { ...message, to: 'nobody' }, 'body.to'],
    ['a wrong type', { ...message, subject: 42 }, 'body.subject'],
    ['an empty subject', { ...message, subject: '' }, 'body.subject'],
    ['a wrong body type', { ...message, body: ['x'] }, 'body.body'],
    ['an unknown field', { ...message, cc: 'x@example.com' }, 'body.cc'],
    ['an array', [message], 'JSON object'],
  ])('answers 400 naming the field for %s', async (_name, payload, field) => {
    app = createEmailProvider()
    const res = await send('k1', payload)
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toContain(field)
    expect((await list()).count).toBe(0)
  })

  it('answers 400 for a body that is not JSON', async () => {
    app = createEmailProvider()
    const res = await app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { 'idempotency-key': 'k1', 'content-type': 'application/json' },
      payload: '{"to":',
    })
    expect(res.statusCode).toBe(400)
    expect((await list()).count).toBe(0)
  })

  it('clears deliveries with DELETE /v1/messages', async () => {
    app = createEmailProvider()
    await send('a')
    const res = await app.inject({ method: 'DELETE', url: '/v1/messages' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ count: 0, attempts: {}, stats: { requests: 0 } })
    expect((await send('a')).statusCode).toBe(201)
  })
})

describe('faults', () => {
  it('starts healthy and shows its state on GET /control', async () => {
    app = createEmailProvider()
    const res = await app.inject({ method: 'GET', url: '/control' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ latencyMs: 0, errorRate: 0, outage: 'none', outageStatus: 503 })
  })

  it('fails every attempt at errorRate 1, counts the attempts, and delivers once when healed', async () => {
    app = createEmailProvider()
    expect((await control({ errorRate: 1 })).json()).toMatchObject({ errorRate: 1 })
    for (let i = 0; i < 3; i++) {
      const res = await send('ord_9')
      expect(res.statusCode).toBe(500)
      expect(res.json().message).toMatch(/injected/)
    }
    expect((await list()).count).toBe(0)

    const reset = await app.inject({ method: 'DELETE', url: '/control' })
    expect(reset.json()).toEqual({ latencyMs: 0, errorRate: 0, outage: 'none', outageStatus: 503 })
    expect((await send('ord_9')).statusCode).toBe(201)

    const listed = await list()
    expect(listed.count).toBe(1)
    expect(listed.messages[0]?.deliveryAttempts).toBe(4)
    expect(listed.stats).toMatchObject({ requests: 4, injectedErrors: 3, delivered: 1 })
  })

  it('draws errors at the configured rate from the random source', async () => {
    const draws = [0.1, 0.7, 0.29, 0.3]
    app = createEmailProvider({ random: () => draws.shift() ?? 0.99, faults: { errorRate: 0.3 } })
    const codes = []
    for (const key of ['a', 'b', 'c', 'd']) codes.push((await send(key)).statusCode)
    expect(codes).toEqual([500, 201, 500, 201])
  })

  it('answers 503 with Retry-After during an outage, while inspection and control still answer', async () => {
    app = createEmailProvider()
    expect((await control({ outage: true }, 'POST')).json()).toMatchObject({ outage: 'http503' })
    const res = await send('ord_2')
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBe('1')
    expect((await list()).stats.outageRejections).toBe(1)
    expect((await app.inject({ method: 'GET', url: '/control' })).statusCode).toBe(200)

    await control({ outageStatus: 502 })
    const bad = await send('ord_2')
    expect(bad.statusCode).toBe(502)
    expect(bad.headers['retry-after']).toBeUndefined()

    await control({ outage: false })
    expect((await send('ord_2')).statusCode).toBe(201)
    expect((await list()).messages[0]?.deliveryAttempts).toBe(3)
  })

  it('adds latency to deliveries only', async () => {
    app = createEmailProvider()
    await control({ latencyMs: 300 })
    let started = performance.now()
    expect((await send('slow')).statusCode).toBe(201)
    expect(performance.now() - started).toBeGreaterThanOrEqual(250)
    started = performance.now()
    await list()
    expect(performance.now() - started).toBeLessThan(250)
  })

  it('keeps the settings a partial update does not name', async () => {
    app = createEmailProvider()
    await control({ latencyMs: 5, errorRate: 0.25 })
    const res = await control({ outage: 'reset' })
    expect(res.json()).toEqual({ latencyMs: 5, errorRate: 0.25, outage: 'reset', outageStatus: 503 })
  })

  it.each([
    [{ latencyMs: -1 }, 'latencyMs'],
    [{ latencyMs: 1.5 }, 'latencyMs'],
    [{ latencyMs: '100' }, 'latencyMs'],
    [{ errorRate: 2 }, 'errorRate'],
    [{ errorRate: '0.5' }, 'errorRate'],
    [{ outage: 'maybe' }, 'outage'],
    [{ outageStatus: 404 }, 'outageStatus'],
    [{ latency: 100 }, 'body.latency'],
    [[1], 'JSON object'],
  ])('rejects control body %j with 400 naming %s', async (payload, field) => {
    app = createEmailProvider()
    const res = await control(payload)
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toContain(field)
    expect((await app.inject({ method: 'GET', url: '/control' })).json()).toMatchObject({ latencyMs: 0 })
  })

  it('rejects a control request without a body', async () => {
    app = createEmailProvider()
    const res = await app.inject({ method: 'PUT', url: '/control' })
    expect(res.statusCode).toBe(400)
  })
})

describe('createEmailProvider options', () => {
  it('applies initial faults', async () => {
    app = createEmailProvider({ faults: { outage: 'http503', outageStatus: 500 } })
    expect((await send('x')).statusCode).toBe(500)
  })

  it.each([
    [{ nope: 1 }, 'nope'],
    [{ random: 0.5 }, 'random'],
    [{ faults: { errorRate: 5 } }, 'faults'],
  ])('rejects %j naming the option', (options, option) => {
    let caught: unknown
    try {
      createEmailProvider(options as never)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(EmailProviderOptionError)
    expect((caught as EmailProviderOptionError).option).toBe(option)
    expect((caught as EmailProviderOptionError).code).toBe('EMAIL_PROVIDER_INVALID_OPTION')
  })
})
