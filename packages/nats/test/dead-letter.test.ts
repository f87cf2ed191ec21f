import { AckPolicy } from '@nats-io/jetstream'
import { headers } from '@nats-io/transport-node'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker, DEAD_LETTER_HEADERS, type DeadLetterEvent } from '../src/index.js'
import { type Env, env, natsUrl, sample, waitFor } from './helpers.js'

describe.skipIf(!natsUrl)('dead letters', () => {
  let e: Env
  beforeAll(async () => {
    e = await env(natsUrl!)
  })
  afterAll(async () => {
    await e?.close()
  })

  /** The dead-letter stream's messages, read with an ephemeral consumer. */
  async function deadLetters(stream: string, count: number) {
    await e.jsm.consumers.add(stream, { name: 'reader', ack_policy: AckPolicy.None })
    const consumer = await e.js.consumers.get(stream, 'reader')
    const batch = await consumer.fetch({ max_messages: count, expires: 2000 })
    const out = []
    for await (const m of batch) out.push(m)
    return out
  }

  it('sends a poison message to the dead-letter subject after maxDeliver attempts while the others flow', async () => {
    const stream = await e.stream('GR_POISON')
    const dead = await e.stream('GR_POISON_DLQ')
    await e.consumer(stream, 'work')
    await e.fill(stream, 100, (id) => ({ id, poison: id === 42 }))
    const registry = new Registry()
    const handled = new Set<number>()
    let poisonAttempts = 0
    const events: DeadLetterEvent[] = []
    const worker = createWorker<{ id: number; poison: boolean }>({
      connection: e.nc,
      stream,
      consumer: 'work',
      concurrency: 4,
      maxDeliver: 3,
      backoffMs: [50, 100],
      deadLetterSubject: `${dead}.work`,
      registry,
      handler: async (job) => {
        if (job.poison) {
          poisonAttempts++
          throw new Error(`template "welcome" has no field "name"\n    at render (stack line)`)
        }
        handled.add(job.id)
      },
    })
    worker.on('deadLetter', (event) => events.push(event))
    await worker.start()
    await waitFor('the 99 good messages', () => handled.size === 99)
    await waitFor('the dead letter', () => events.length === 1)
    expect(poisonAttempts).toBe(3)

    const [letter] = await deadLetters(dead, 1)
    expect(letter!.subject).toBe(`${dead}.work`)
    expect(letter!.json()).toEqual({ id: 42, poison: true })
    const h = letter!.headers!
    expect(h.get(DEAD_LETTER_HEADERS.reason)).toBe('max_deliver')
    expect(h.get(DEAD_LETTER_HEADERS.subject)).toBe(`${stream}.job`)
    expect(h.get(DEAD_LETTER_HEADERS.stream)).toBe(stream)
    expect(h.get(DEAD_LETTER_HEADERS.consumer)).toBe('work')
    expect(h.get(DEAD_LETTER_HEADERS.sequence)).toBe('43')
    expect(h.get(DEAD_LETTER_HEADERS.deliveryCount)).toBe('3')
    expect(h.get(DEAD_LETTER_HEADERS.failures)).toBe('3')
    expect(h.get(DEAD_LETTER_HEADERS.error)).toBe('template "welcome" has no field "name"')

    await waitFor('nothing left in the work stream', async () => {
      const info = await e.jsm.consumers.info(stream, 'work')
      return info.num_pending === 0 && info.num_ack_pending === 0
    })
    const text = await registry.metrics()
    expect(sample(text, 'nats_messages_total', { stream, outcome: 'dead_letter' })).toBe(1)
    expect(sample(text, 'nats_messages_total', { stream, outcome: 'nak' })).toBe(2)
    expect(sample(text, 'nats_messages_total', { stream, outcome: 'ack' })).toBe(99)
    await worker.stop()
  })

  it('sends an undecodable payload to the dead-letter subject at once, without calling the handler', async () => {
    const stream = await e.stream('GR_GARBLED')
    const dead = await e.stream('GR_GARBLED_DLQ')
    await e.consumer(stream, 'work')
    const h = headers()
    h.set('Trace-Id', 'abc123')
    await e.js.publish(`${stream}.job`, '{"id": 1, broken', { msgID: 'order-1', headers: h })
    await e.fill(stream, 1)
    const registry = new Registry()
    const calls: unknown[] = []
    const worker = createWorker({
      connection: e.nc,
      stream,
      consumer: 'work',
      maxDeliver: 5,
      deadLetterSubject: `${dead}.work`,
      registry,
      handler: (job) => {
        calls.push(job)
      },
    })
    await worker.start()
    await waitFor('the good message', () => calls.length === 1)
    const [letter] = await deadLetters(dead, 1)
    expect(letter!.string()).toBe('{"id": 1, broken')
    const lh = letter!.headers!
    expect(lh.get(DEAD_LETTER_HEADERS.reason)).toBe('decode')
    expect(lh.get(DEAD_LETTER_HEADERS.deliveryCount)).toBe('1')
    expect(lh.get(DEAD_LETTER_HEADERS.errorCode)).toBe('GR_ERR_NATS_DECODE')
    expect(lh.get(DEAD_LETTER_HEADERS.error)).toMatch(/^Payload could not be decoded: .*JSON/)
    // The application's headers travel with it; the original id is kept but not reused for de-duplication.
    expect(lh.get('Trace-Id')).toBe('abc123')
    expect(lh.get(DEAD_LETTER_HEADERS.msgId)).toBe('order-1')
    expect(lh.get('Nats-Msg-Id')).toBe(`gr-dead-letter:${stream}:1`)
    expect(calls).toEqual([{ id: 0 }])
    const text = await registry.metrics()
    expect(sample(text, 'nats_messages_total', { stream, outcome: 'dead_letter' })).toBe(1)
    expect(sample(text, 'nats_messages_total', { stream, outcome: 'nak' })).toBe(0)
    await worker.stop()
  })

  it('terminates a poison message when there is no dead-letter subject', async () => {
    const stream = await e.stream('GR_TERM')
    await e.consumer(stream, 'work')
    await e.fill(stream, 1)
    const registry = new Registry()
    const events: DeadLetterEvent[] = []
    const worker = createWorker({
      connection: e.nc,
      stream,
      consumer: 'work',
      maxDeliver: 2,
      backoffMs: [20],
      registry,
      handler: () => {
        throw new Error('always')
      },
    })
    worker.on('deadLetter', (event) => events.push(event))
    await worker.start()
    await waitFor('the termination', () => events.length === 1)
    expect(events[0]).toMatchObject({
      reason: 'max_deliver',
      published: false,
      failures: 2,
      deliveryCount: 2,
    })
    await waitFor('nothing pending', async () => {
      const info = await e.jsm.consumers.info(stream, 'work')
      return info.num_pending === 0 && info.num_ack_pending === 0
    })
    expect(sample(await registry.metrics(), 'nats_messages_total', { stream, outcome: 'term' })).toBe(1)
    await worker.stop()
  })
})
