import { headers } from '@nats-io/transport-node'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PublishError, publish } from '../src/index.js'
import { type Env, env, natsUrl, sample } from './helpers.js'

describe.skipIf(!natsUrl)('publish', () => {
  let e: Env
  beforeAll(async () => {
    e = await env(natsUrl!)
  })
  afterAll(async () => {
    await e?.close()
  })

  it('waits for the server, sets Nats-Msg-Id so a retry is stored once, and counts by stream', async () => {
    const stream = await e.stream('GR_PUB')
    const registry = new Registry()
    const h = headers()
    h.set('Trace-Id', 't-1')
    const first = await publish(
      e.js,
      `${stream}.order.8412`,
      { id: 8412 },
      { msgID: 'order-8412', registry, headers: h },
    )
    const retry = await publish(e.js, `${stream}.order.8412`, { id: 8412 }, { msgID: 'order-8412', registry })
    expect(first).toMatchObject({ stream, seq: 1, duplicate: false })
    expect(retry).toMatchObject({ stream, seq: 1, duplicate: true })
    const stored = await e.jsm.streams.getMessage(stream, { seq: 1 })
    expect(stored?.json()).toEqual({ id: 8412 })
    expect(stored?.header.get('Nats-Msg-Id')).toBe('order-8412')
    expect(stored?.header.get('Trace-Id')).toBe('t-1')
    expect((await e.jsm.streams.info(stream)).state.messages).toBe(1)

    const text = await registry.metrics()
    expect(sample(text, 'nats_publish_total', { stream, outcome: 'ok' })).toBe(1)
    expect(sample(text, 'nats_publish_total', { stream, outcome: 'duplicate' })).toBe(1)
    expect(sample(text, 'nats_publish_duration_seconds_count', { stream })).toBe(2)
    // The subject carries an id; it must not become a label.
    expect(text).not.toContain('8412')
  })

  it('sends strings and bytes as they are', async () => {
    const stream = await e.stream('GR_PUB')
    await publish(e.js, `${stream}.a`, 'plain text', { msgID: 'a' })
    await publish(e.js, `${stream}.b`, new Uint8Array([1, 2, 3]), { msgID: 'b' })
    expect((await e.jsm.streams.getMessage(stream, { seq: 1 }))?.string()).toBe('plain text')
    expect([...((await e.jsm.streams.getMessage(stream, { seq: 2 }))?.data ?? [])]).toEqual([1, 2, 3])
  })

  it('rejects with GR_ERR_NATS_PUBLISH when no stream stores the subject or the expectation fails', async () => {
    const stream = await e.stream('GR_PUB')
    const registry = new Registry()
    const nowhere = await publish(
      e.js,
      'gr.nowhere.stored',
      { a: 1 },
      { msgID: 'x', registry, timeoutMs: 2000 },
    ).catch((err: unknown) => err)
    expect(nowhere).toBeInstanceOf(PublishError)
    expect(nowhere).toMatchObject({
      code: 'GR_ERR_NATS_PUBLISH',
      subject: 'gr.nowhere.stored',
      statusCode: 503,
    })
    await expect(
      publish(e.js, `${stream}.x`, 1, { msgID: 'y', registry, expectStream: 'SOMETHING_ELSE' }),
    ).rejects.toMatchObject({ code: 'GR_ERR_NATS_PUBLISH' })
    const text = await registry.metrics()
    expect(sample(text, 'nats_publish_total', { stream: '', outcome: 'error' })).toBe(1)
    expect(sample(text, 'nats_publish_total', { stream: 'SOMETHING_ELSE', outcome: 'error' })).toBe(1)
  })
})
