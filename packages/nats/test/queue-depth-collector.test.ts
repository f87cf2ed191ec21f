import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createQueueDepthCollector } from '../src/index.js'
import { type Env, env, natsUrl, privateServer, sample, server, sleep } from './helpers.js'

describe.skipIf(!natsUrl)('createQueueDepthCollector', () => {
  let e: Env
  beforeAll(async () => {
    e = await env(natsUrl!)
  })
  afterAll(async () => {
    await e?.close()
  })

  it('exports four gauges per consumer from one consumer info request per consumer and scrape', async () => {
    const stream = await e.stream('GR_DEPTH')
    await e.consumer(stream, 'email')
    await e.consumer(stream, 'sms', { ack_wait: 300_000_000 })
    await e.fill(stream, 7)
    // Two delivered and never acked, the first of them twice: pending 5, ack pending 2, redelivered 1.
    const sms = await e.js.consumers.get(stream, 'sms')
    for await (const _ of await sms.fetch({ max_messages: 2, expires: 2000 })) {
    }
    await sleep(600)
    for await (const m of await sms.fetch({ max_messages: 1, expires: 2000 })) expect(m.seq).toBe(1)

    let calls = 0
    const counting = {
      ...e.jsm,
      consumers: {
        ...e.jsm.consumers,
        info: (s: string, c: string) => {
          calls++
          return e.jsm.consumers.info(s, c)
        },
      },
    }
    const registry = new Registry()
    const collector = createQueueDepthCollector({
      jsm: counting,
      stream,
      consumer: ['email', 'sms'],
      registry,
    })
    const text = await registry.metrics()
    expect(calls).toBe(2)
    const email = { stream_name: stream, consumer_name: 'email' }
    const smsLabels = { stream_name: stream, consumer_name: 'sms' }
    expect(sample(text, 'jetstream_consumer_num_pending', email)).toBe(7)
    expect(sample(text, 'jetstream_consumer_num_ack_pending', email)).toBe(0)
    expect(sample(text, 'queue_depth_messages', email)).toBe(7)
    expect(sample(text, 'jetstream_consumer_num_pending', smsLabels)).toBe(5)
    expect(sample(text, 'jetstream_consumer_num_ack_pending', smsLabels)).toBe(2)
    expect(sample(text, 'jetstream_consumer_num_redelivered', smsLabels)).toBe(1)
    expect(sample(text, 'queue_depth_messages', smsLabels)).toBe(7)
    expect(sample(text, 'queue_depth_messages_collect_errors_total')).toBe(0)
    // Within cacheMs a second scrape asks nothing.
    await registry.metrics()
    expect(calls).toBe(2)
    collector.close()
    expect(await registry.metrics()).not.toContain('queue_depth_messages')
  })

  it('lets collectors of other streams share a registry, and refuses a consumer collected twice', async () => {
    const a = await e.stream('GR_DEPTH_A')
    const b = await e.stream('GR_DEPTH_B')
    await e.consumer(a, 'work')
    await e.consumer(b, 'work')
    await e.fill(b, 3)
    const registry = new Registry()
    const ca = createQueueDepthCollector({ jsm: e.jsm, stream: a, consumer: 'work', registry })
    const cb = createQueueDepthCollector({ jsm: e.jsm, stream: b, consumer: 'work', registry })
    expect(() => createQueueDepthCollector({ jsm: e.jsm, stream: b, consumer: 'work', registry })).toThrow(
      expect.objectContaining({ code: 'GR_ERR_INVALID_OPTION', option: 'consumer' }),
    )
    expect(() =>
      createQueueDepthCollector({ jsm: e.jsm, stream: a, consumer: 'other', registry, cacheMs: 5 }),
    ).toThrow(expect.objectContaining({ code: 'GR_ERR_INVALID_OPTION', option: 'cacheMs' }))
    const text = await registry.metrics()
    expect(sample(text, 'queue_depth_messages', { stream_name: a })).toBe(0)
    expect(sample(text, 'queue_depth_messages', { stream_name: b })).toBe(3)
    ca.close()
    expect(sample(await registry.metrics(), 'queue_depth_messages', { stream_name: a })).toBeUndefined()
    cb.close()
  })

  it('answers scrapes within timeoutMs with the last values while NATS is unreachable, counting errors', async () => {
    const nats = await privateServer()
    const nc = await connect({ servers: server(nats.url), reconnectTimeWait: 100, maxReconnectAttempts: -1 })
    try {
      const jsm = await jetstreamManager(nc)
      await jsm.streams.add({ name: 'DEPTH', subjects: ['depth.>'] })
      await jsm.consumers.add('DEPTH', { durable_name: 'work', ack_policy: AckPolicy.Explicit })
      const js = jetstream(nc)
      for (let i = 0; i < 4; i++) await js.publish('depth.job', 'x')
      const registry = new Registry()
      const timeoutMs = 300
      createQueueDepthCollector({ jsm, stream: 'DEPTH', consumer: 'work', registry, cacheMs: 0, timeoutMs })
      const labels = { stream_name: 'DEPTH', consumer_name: 'work' }
      expect(sample(await registry.metrics(), 'queue_depth_messages', labels)).toBe(4)

      await nats.kill()
      for (let scrape = 1; scrape <= 3; scrape++) {
        const started = performance.now()
        const text = await registry.metrics()
        // Bounded by timeoutMs (plus a generous allowance for a loaded machine), not by the client's 5 s.
        expect(performance.now() - started).toBeLessThan(timeoutMs + 1500)
        expect(sample(text, 'queue_depth_messages', labels)).toBe(4)
        expect(sample(text, 'queue_depth_messages_collect_errors_total')).toBe(scrape)
        expect(sample(text, 'jetstream_consumer_num_pending_collect_errors_total')).toBe(scrape)
        expect(sample(text, 'queue_depth_messages_age_seconds')).toBeGreaterThan(0)
      }
    } finally {
      await nc.close().catch(() => undefined)
      await nats.stop()
    }
  })
})
