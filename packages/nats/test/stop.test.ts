import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../src/index.js'
import { type Env, env, natsUrl, sample, sleep, waitFor } from './helpers.js'

describe.skipIf(!natsUrl)('stop()', () => {
  let e: Env
  beforeAll(async () => {
    e = await env(natsUrl!)
  })
  afterAll(async () => {
    await e?.close()
  })

  it('under load loses no message and handles none twice in the stopped worker', async () => {
    const stream = await e.stream('GR_STOP')
    await e.consumer(stream, 'work', { ack_wait: 10_000_000_000 })
    await e.fill(stream, 2000)
    const registry = new Registry()
    const byA: number[] = []
    const byB: number[] = []
    let stoppedA = false
    let handledByAAfterStop = 0
    const a = createWorker<{ id: number }>({
      connection: e.nc,
      stream,
      consumer: 'work',
      concurrency: 16,
      prefetch: 32,
      registry,
      handler: async (job) => {
        if (stoppedA) handledByAAfterStop++
        await sleep(5)
        byA.push(job.id)
      },
    })
    await a.start()
    await waitFor('A to be busy', () => byA.length >= 300)
    const result = await a.stop({ timeoutMs: 5000 })
    stoppedA = true
    expect(result.abandoned).toBe(0)
    expect(a.state).toBe('stopped')
    const countAtStop = byA.length

    const b = createWorker<{ id: number }>({
      connection: e.nc,
      stream,
      consumer: 'work',
      concurrency: 16,
      registry,
      handler: async (job) => {
        byB.push(job.id)
      },
    })
    await b.start()
    // What A handed back (its prefetched messages) is redelivered at once, not after ack_wait (10 s).
    await waitFor('every message handled', () => new Set([...byA, ...byB]).size === 2000, 8000)
    await waitFor('every ack to reach the server', async () => {
      const info = await e.jsm.consumers.info(stream, 'work')
      return info.num_pending === 0 && info.num_ack_pending === 0
    })
    expect(byA.length).toBe(countAtStop)
    expect(handledByAAfterStop).toBe(0)
    expect(new Set(byA).size).toBe(byA.length)
    expect(new Set(byB).size).toBe(byB.length)
    const text = await registry.metrics()
    // Every message acked exactly once between the two workers; A's hand-backs are its naks.
    expect(sample(text, 'nats_messages_total', { stream, outcome: 'ack' })).toBe(2000)
    expect(byA.length + byB.length).toBe(2000)
    expect(sample(text, 'nats_messages_total', { stream, outcome: 'nak' })).toBeLessThanOrEqual(16 + 32)
    await b.stop()
  })

  it('hands back handlers still running at the timeout, each to another worker once, long before ack_wait', async () => {
    const stream = await e.stream('GR_STUCK')
    await e.consumer(stream, 'work', { ack_wait: 30_000_000_000 })
    await e.fill(stream, 3)
    const aborted: number[] = []
    let release!: () => void
    const forever = new Promise<void>((r) => {
      release = r
    })
    const a = createWorker<{ id: number }>({
      connection: e.nc,
      stream,
      consumer: 'work',
      concurrency: 3,
      registry: new Registry(),
      handler: async (job, message) => {
        message.signal.addEventListener('abort', () => aborted.push(job.id))
        await forever
      },
    })
    await a.start()
    await waitFor('three handlers running', () => a.inFlight === 3)
    const started = performance.now()
    const result = await a.stop({ timeoutMs: 300 })
    expect(performance.now() - started).toBeLessThan(5000)
    expect(result.abandoned).toBe(3)
    expect(aborted.sort()).toEqual([0, 1, 2])

    const byB: number[] = []
    const b = createWorker<{ id: number }>({
      connection: e.nc,
      stream,
      consumer: 'work',
      registry: new Registry(),
      handler: (job) => {
        byB.push(job.id)
      },
    })
    await b.start()
    // At once when the stream is busy; here A's last pull request was still waiting on the server, so the
    // hand-back waits for it to expire (a few seconds; see PullSession on nats-server before 2.10.15).
    await waitFor('B to get all three long before ack_wait', () => byB.length === 3, 10_000)
    expect(byB.sort()).toEqual([0, 1, 2])
    // A's handlers finishing late must not ack what B now owns.
    release()
    await sleep(100)
    await waitFor('acks', async () => (await e.jsm.consumers.info(stream, 'work')).num_ack_pending === 0)
    await b.stop()
  })

  it('is idempotent, and start() after stop() is refused', async () => {
    const stream = await e.stream('GR_ONCE')
    await e.consumer(stream, 'work')
    const w = createWorker({
      connection: e.nc,
      stream,
      consumer: 'work',
      registry: new Registry(),
      handler() {},
    })
    await w.start()
    const [r1, r2] = await Promise.all([w.stop(), w.stop()])
    expect(r1).toBe(r2)
    await expect(w.start()).rejects.toMatchObject({ code: 'GR_ERR_NATS_WORKER_STOPPED' })
  })
})
