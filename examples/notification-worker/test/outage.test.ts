// Provider down: the breaker opens, the worker stops pulling (the provider sees a trial call per reset
// timeout, not a redelivery storm), nothing is dead-lettered, the backlog shows in queue_depth_messages,
// and after recovery every order is delivered exactly once.
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
  sleep,
  startProvider,
  uniqueNames,
  waitFor,
} from './helpers.js'

const ORDERS = 40
const RESET_TIMEOUT_MS = 1000
const OUTAGE_HOLD_MS = 3000

describe.skipIf(!natsUrl)('notification worker, provider outage', () => {
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

  it.each(['http503', 'reset'] as const)(
    'pauses during a %s outage and delivers everything once after',
    async (outage) => {
      service = makeWorker(provider, names, {
        concurrency: 8,
        // Failures before the breaker has seen volumeThreshold calls count against their message: retry
        // those soon, so recovery is quick.
        backoffMs: [200],
        breaker: { resetTimeoutMs: RESET_TIMEOUT_MS, volumeThreshold: 2 },
      })
      await service.start()
      const base = adminUrl(service)
      const depthLabels = { stream_name: names.stream, consumer_name: names.consumer }
      const breakerOpen = { name: 'email-provider', state: 'open' }

      await provider.faults({ outage })
      const ids = await client.publishOrders(names.subject, ORDERS)

      await waitFor(
        'the breaker to open',
        async () => sample(await scrape(base), 'circuit_breaker_state', breakerOpen) === 1,
      )
      expect(['paused', 'probing']).toContain(service.worker?.state)
      const attemptsAtOpen = (await provider.messages()).stats.requests

      await sleep(OUTAGE_HOLD_MS)
      const during = await provider.messages()
      // Paused: only the breaker's trial calls reach the provider, about one per reset timeout. A worker that
      // kept pulling would have tried all 40 orders, again and again.
      const trials = during.stats.requests - attemptsAtOpen
      expect(trials).toBeLessThanOrEqual(Math.ceil(OUTAGE_HOLD_MS / RESET_TIMEOUT_MS) + 3)
      expect(during.stats.requests).toBeLessThan(ORDERS)
      expect(during.count).toBe(0)
      // The backlog is visible where the autoscaler reads it.
      const text = await scrape(base)
      expect(sample(text, 'queue_depth_messages', depthLabels)).toBeGreaterThan(0)

      await provider.faults('heal')
      const list = await waitFor(
        `${ORDERS} deliveries after recovery`,
        async () => {
          const l = await provider.messages()
          return l.count === ORDERS ? l : undefined
        },
        20_000,
      )
      expect(list.messages.map((m) => m.idempotencyKey).sort()).toEqual([...ids].sort())
      expect(list.stats.replayed).toBe(0)
      // Few attempts per order: no order was burnt through redeliveries while the provider was down.
      expect(Math.max(...Object.values(list.attempts))).toBeLessThanOrEqual(
        Math.ceil(OUTAGE_HOLD_MS / RESET_TIMEOUT_MS) + 3,
      )

      const after = await waitFor('queue_depth_messages back to 0', async () => {
        const t = await scrape(base)
        return sample(t, 'queue_depth_messages', depthLabels) === 0 ? t : undefined
      })
      expect(
        sample(after, 'nats_messages_total', { consumer: names.consumer, outcome: 'dead_letter' }) ?? 0,
      ).toBe(0)
      expect(sample(after, 'nats_messages_total', { consumer: names.consumer, outcome: 'ack' })).toBe(ORDERS)
      expect(sample(after, 'circuit_breaker_state', { name: 'email-provider', state: 'closed' })).toBe(1)
      // Nothing reached the dead-letter subject: the stream holds the orders and nothing else.
      const stream = await client.jsm.streams.info(names.stream)
      expect(stream.state.messages).toBe(ORDERS)
    },
  )
})
