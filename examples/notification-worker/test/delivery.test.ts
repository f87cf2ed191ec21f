// Healthy provider: every published order yields exactly one notification, the admin server shows the
// backlog going back to 0, and a payload that is not an order is dead-lettered at once without blocking.
import { AckPolicy } from '@nats-io/jetstream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { NotificationWorker } from '../src/index.js'
import {
  adminUrl,
  makeWorker,
  type Names,
  natsClient,
  natsUrl,
  type Provider,
  sample,
  scrape,
  startProvider,
  uniqueNames,
  waitFor,
} from './helpers.js'

describe.skipIf(!natsUrl)('notification worker, healthy provider', () => {
  let provider: Provider
  let client: Awaited<ReturnType<typeof natsClient>>
  let names: Names
  let service: NotificationWorker | undefined

  beforeEach(async () => {
    provider = await startProvider()
    client = await natsClient(natsUrl!)
    names = uniqueNames()
    client.own(names.stream)
  })

  afterEach(async () => {
    await service?.close()
    service = undefined
    await client.close()
    await provider.close()
  })

  it('delivers one notification per published order, keyed by the order id', async () => {
    service = makeWorker(provider, names, { concurrency: 8 })
    await service.start()
    const ids = await client.publishOrders(names.subject, 60)

    const list = await waitFor('60 deliveries', async () => {
      const l = await provider.messages()
      return l.count === 60 ? l : undefined
    })
    expect(new Set(list.messages.map((m) => m.idempotencyKey))).toEqual(new Set(ids))
    // Exactly once: no order was tried twice, and none was sent again after it was delivered.
    expect(Math.max(...Object.values(list.attempts))).toBe(1)
    expect(list.stats.replayed).toBe(0)
    const first = list.messages.find((m) => m.idempotencyKey === ids[0])!
    expect(first.to).toBe('customer@example.com')
    expect(first.subject).toContain(ids[0])
    expect(first.body).toContain('10.00 EUR')

    const base = adminUrl(service)
    const labels = { stream_name: names.stream, consumer_name: names.consumer }
    // Acks are not awaited by the server: poll until the consumer info shows none pending.
    const text = await waitFor('queue_depth_messages back to 0', async () => {
      const t = await scrape(base)
      return sample(t, 'queue_depth_messages', labels) === 0 ? t : undefined
    })
    expect(text).toContain('# TYPE queue_depth_messages gauge')
    expect(sample(text, 'nats_messages_total', { consumer: names.consumer, outcome: 'ack' })).toBe(60)
    expect(sample(text, 'circuit_breaker_state', { name: 'email-provider', state: 'closed' })).toBe(1)
    // No main server: no HTTP request metrics to export.
    expect(text).not.toContain('http_request_duration_seconds')
  })

  it('answers the probes on the admin port, readiness naming the NATS check', async () => {
    service = makeWorker(provider, names)
    await service.start()
    const base = adminUrl(service)
    for (const path of ['/livez', '/startupz']) expect((await fetch(`${base}${path}`)).status).toBe(200)
    const ready = await fetch(`${base}/readyz`)
    expect(ready.status).toBe(200)
    const body = (await ready.json()) as { checks: { name: string; status: string }[] }
    expect(body.checks.map((c) => c.name).sort()).toEqual(['nats', 'notification-worker'])
  })

  it('creates the stream and the consumer once, and a second replica shares them', async () => {
    service = makeWorker(provider, names)
    await service.start()
    const second = makeWorker(provider, names)
    await second.start()
    try {
      const info = await client.jsm.consumers.info(names.stream, names.consumer)
      expect(info.config.filter_subject).toBe(names.subject)
      expect(info.config.ack_policy).toBe('explicit')
      const ids = await client.publishOrders(names.subject, 20)
      await waitFor('20 deliveries across two replicas', async () => (await provider.messages()).count === 20)
      const list = await provider.messages()
      expect(list.messages.map((m) => m.idempotencyKey).sort()).toEqual([...ids].sort())
      expect(list.stats.replayed).toBe(0)
    } finally {
      await second.close()
    }
  })

  it('dead-letters a payload that is not an order at once, while the orders flow', async () => {
    service = makeWorker(provider, names)
    await service.start()
    await client.publishRaw(names.subject, 'not json', 'poison-1')
    await client.publishRaw(
      names.subject,
      JSON.stringify({ id: 'x', amount: -1, currency: 'EUR' }),
      'poison-2',
    )
    const ids = await client.publishOrders(names.subject, 5)

    await waitFor('5 deliveries', async () => (await provider.messages()).count === 5)
    const base = adminUrl(service)
    const text = await waitFor('two dead letters', async () => {
      const t = await scrape(base)
      return sample(t, 'nats_messages_total', { consumer: names.consumer, outcome: 'dead_letter' }) === 2
        ? t
        : undefined
    })
    expect(sample(text, 'nats_messages_total', { consumer: names.consumer, outcome: 'ack' })).toBe(5)
    const stored = await client.jsm.streams.info(names.stream, { subjects_filter: names.deadLetterSubject })
    expect(stored.state.subjects?.[names.deadLetterSubject]).toBe(2)
    expect((await provider.messages()).messages.map((m) => m.idempotencyKey).sort()).toEqual([...ids].sort())
  })

  it('refuses an existing consumer that reads another subject', async () => {
    await client.jsm.streams.add({ name: names.stream, subjects: names.streamSubjects })
    await client.jsm.consumers.add(names.stream, {
      durable_name: names.consumer,
      ack_policy: AckPolicy.Explicit,
      filter_subject: `${names.subject}.other`,
    })
    service = makeWorker(provider, names)
    await expect(service.start()).rejects.toMatchObject({ code: 'NOTIFY_STREAM_CONFIG' })
  })
})
