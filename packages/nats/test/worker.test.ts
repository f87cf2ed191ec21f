import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createQueueDepthCollector, createWorker, type WorkerMessage } from '../src/index.js'
import { type Env, env, natsUrl, sample, sleep, waitFor } from './helpers.js'

describe.skipIf(!natsUrl)('createWorker against nats-server', () => {
  let e: Env
  beforeAll(async () => {
    e = await env(natsUrl!)
  })
  afterAll(async () => {
    await e?.close()
  })

  it('handles and acks every one of 5,000 messages at concurrency 32, and the queue depth returns to 0', async () => {
    const stream = await e.stream('GR_MANY')
    await e.consumer(stream, 'work')
    await e.fill(stream, 5000)
    const registry = new Registry()
    const collector = createQueueDepthCollector({
      jsm: e.jsm,
      stream,
      consumer: 'work',
      registry,
      cacheMs: 0,
    })
    const before = await registry.metrics()
    expect(sample(before, 'queue_depth_messages', { stream_name: stream, consumer_name: 'work' })).toBe(5000)

    const handled = new Set<number>()
    let running = 0
    let mostRunning = 0
    const worker = createWorker<{ id: number }>({
      connection: e.nc,
      stream,
      consumer: 'work',
      concurrency: 32,
      registry,
      handler: async (job) => {
        running++
        mostRunning = Math.max(mostRunning, running)
        // A little real asynchrony, so handlers overlap as they would around a network call.
        await sleep(job.id % 3)
        handled.add(job.id)
        running--
      },
    })
    await worker.start()
    await waitFor('5,000 messages handled', () => handled.size === 5000, 30_000)
    // Acks are not confirmed by the server one by one: poll the consumer until none is outstanding.
    await waitFor('every ack to reach the server', async () => {
      const info = await e.jsm.consumers.info(stream, 'work')
      return info.num_ack_pending === 0 && info.num_pending === 0
    })
    const text = await registry.metrics()
    expect(sample(text, 'queue_depth_messages', { stream_name: stream, consumer_name: 'work' })).toBe(0)
    expect(sample(text, 'jetstream_consumer_num_pending', { stream_name: stream })).toBe(0)
    expect(sample(text, 'jetstream_consumer_num_ack_pending', { stream_name: stream })).toBe(0)
    expect(sample(text, 'nats_messages_total', { stream, consumer: 'work', outcome: 'ack' })).toBe(5000)
    expect(sample(text, 'nats_messages_total', { stream, consumer: 'work', outcome: 'nak' })).toBe(0)
    expect(sample(text, 'nats_message_processing_seconds_count', { stream, consumer: 'work' })).toBe(5000)
    expect(sample(text, 'nats_worker_in_flight', { stream, consumer: 'work' })).toBe(0)
    expect(mostRunning).toBeLessThanOrEqual(32)
    expect(mostRunning).toBeGreaterThan(1)
    expect(worker.state).toBe('running')
    await worker.stop()
    expect(worker.state).toBe('stopped')
    collector.close()
  })

  it('holds at most concurrency + prefetch messages, and one per slot until handlers prove fast', async () => {
    const stream = await e.stream('GR_BOUND')
    await e.consumer(stream, 'work')
    await e.fill(stream, 300)
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    let started = 0
    const worker = createWorker({
      connection: e.nc,
      stream,
      consumer: 'work',
      concurrency: 4,
      prefetch: 6,
      registry: new Registry(),
      handler: async () => {
        started++
        await gate
      },
    })
    await worker.start()
    await waitFor('four handlers to start', () => started === 4)
    await sleep(300)
    // Nothing finished yet, so nothing says the handlers are fast: one waiting message per slot.
    expect((await e.jsm.consumers.info(stream, 'work')).num_ack_pending).toBe(8)
    expect(started).toBe(4)
    release()
    await worker.stop({ timeoutMs: 5000 })

    // Fast handlers open the window up to prefetch, never beyond.
    const fast = createWorker<{ id: number }>({
      connection: e.nc,
      stream,
      consumer: 'work',
      concurrency: 4,
      prefetch: 6,
      registry: new Registry(),
      handler: async (job) => {
        if (job.id >= 150) await new Promise(() => {})
      },
    })
    await fast.start()
    await waitFor('four handlers stuck', () => fast.inFlight === 4)
    await sleep(300)
    expect((await e.jsm.consumers.info(stream, 'work')).num_ack_pending).toBe(10)
    await fast.stop({ timeoutMs: 100 })
  })

  it('keeps about a second of slow work waiting, not a backlog', async () => {
    const stream = await e.stream('GR_HOARD')
    await e.consumer(stream, 'work')
    await e.fill(stream, 200)
    const worker = createWorker({
      connection: e.nc,
      stream,
      consumer: 'work',
      concurrency: 2,
      registry: new Registry(),
      handler: () => sleep(200),
    })
    await worker.start()
    let most = 0
    for (let i = 0; i < 8; i++) {
      await sleep(250)
      most = Math.max(most, (await e.jsm.consumers.info(stream, 'work')).num_ack_pending)
    }
    // 2 running + about 1000 ms * 2 slots / 200 ms = 10 waiting, out of a prefetch of 256.
    expect(most).toBeGreaterThan(2)
    expect(most).toBeLessThanOrEqual(12)
    await worker.stop({ timeoutMs: 1000 })
  })

  it('keeps a message whose handler outlasts ack_wait from being redelivered', async () => {
    const stream = await e.stream('GR_SLOW')
    await e.consumer(stream, 'work', { ack_wait: 1_000_000_000 })
    await e.fill(stream, 2)
    const deliveries: number[] = []
    const worker = createWorker<{ id: number }>({
      connection: e.nc,
      stream,
      consumer: 'work',
      concurrency: 1,
      registry: new Registry(),
      handler: async (job, message: WorkerMessage) => {
        deliveries.push(message.deliveryCount)
        if (job.id === 0) await sleep(2500)
      },
    })
    await worker.start()
    await waitFor('both messages handled', () => deliveries.length === 2, 10_000)
    await sleep(300)
    const info = await e.jsm.consumers.info(stream, 'work')
    expect(deliveries).toEqual([1, 1])
    expect(info.num_redelivered).toBe(0)
    expect(info.num_ack_pending).toBe(0)
    await worker.stop()
  })

  it('retries a failed message after the backoff delay, then acks it', async () => {
    const stream = await e.stream('GR_RETRY')
    await e.consumer(stream, 'work')
    await e.fill(stream, 1)
    const attempts: { at: number; failures: number; deliveryCount: number }[] = []
    const registry = new Registry()
    const worker = createWorker({
      connection: e.nc,
      stream,
      consumer: 'work',
      backoffMs: [400, 50],
      registry,
      handler: async (_job, message) => {
        attempts.push({
          at: performance.now(),
          failures: message.failures,
          deliveryCount: message.deliveryCount,
        })
        if (attempts.length < 3) throw new Error('flaky')
      },
    })
    await worker.start()
    await waitFor('three attempts', () => attempts.length === 3)
    expect(attempts.map((a) => [a.failures, a.deliveryCount])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ])
    // The first retry waited for backoffMs[0]; generous bounds, a loaded machine is slow, never fast.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(350)
    await waitFor('the ack', async () => (await e.jsm.consumers.info(stream, 'work')).num_ack_pending === 0)
    const text = await registry.metrics()
    expect(sample(text, 'nats_messages_total', { stream, outcome: 'nak' })).toBe(2)
    expect(sample(text, 'nats_messages_total', { stream, outcome: 'ack' })).toBe(1)
    await worker.stop()
  })
})
