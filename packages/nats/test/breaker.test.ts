import { createBreaker } from '@goreliable/core'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../src/index.js'
import { type Env, env, natsUrl, sample, sleep, waitFor } from './helpers.js'

describe.skipIf(!natsUrl)('a worker behind an open breaker', () => {
  let e: Env
  beforeAll(async () => {
    e = await env(natsUrl!)
  })
  afterAll(async () => {
    await e?.close()
  })

  it('stops pulling while the provider is down, dead-letters nothing, and handles everything after', async () => {
    const stream = await e.stream('GR_DOWN', [])
    const dead = await e.stream('GR_DOWN_DLQ')
    await e.consumer(stream, 'notify', { ack_wait: 2_000_000_000 })
    await e.fill(stream, 200)
    const registry = new Registry()
    let providerUp = false
    const sent = new Set<number>()
    const provider = createBreaker(
      async (job: { id: number }) => {
        await sleep(2)
        if (!providerUp) throw new Error('503 from the email API')
        sent.add(job.id)
      },
      { name: 'email', registry, resetTimeoutMs: 2500, volumeThreshold: 3, timeoutMs: false },
    )
    const worker = createWorker<{ id: number }>({
      connection: e.nc,
      stream,
      consumer: 'notify',
      concurrency: 8,
      // Two failures would dead-letter a message: only the provider's fault must not count.
      maxDeliver: 2,
      backoffMs: [100],
      deadLetterSubject: `${dead}.notify`,
      breaker: provider,
      registry,
      handler: (job) => provider.fire(job),
    })
    const pauses: number[] = []
    const resumes: string[] = []
    worker.on('pause', () => pauses.push(performance.now()))
    worker.on('resume', ({ state }) => resumes.push(state))
    await worker.start()

    // Opened by the first failures; the worker must ask the server for nothing while it stays open.
    await waitFor('the worker to pause', () => pauses.length === 1)
    const openedAt = pauses[0]!
    expect(worker.state).toBe('paused')
    await sleep(400)
    const early = await e.jsm.consumers.info(stream, 'notify')
    // Well before the half-open trial at 2.5 s.
    await sleep(Math.max(0, openedAt + 2000 - performance.now()))
    expect(provider.opened).toBe(true)
    const late = await e.jsm.consumers.info(stream, 'notify')
    expect(late.delivered.consumer_seq).toBe(early.delivered.consumer_seq)
    expect(late.num_pending + late.num_ack_pending).toBeGreaterThan(150)

    // Half-open: one probe at a time; it fails once more (still down), then the provider comes back.
    await waitFor('a half-open probe', () => resumes.includes('probing'), 5000)
    await waitFor('the second opening', () => pauses.length === 2, 5000)
    providerUp = true
    await waitFor('every message sent', () => sent.size === 200, 20_000)
    expect(resumes.at(-1)).toBe('running')
    await waitFor('every ack to reach the server', async () => {
      const info = await e.jsm.consumers.info(stream, 'notify')
      return info.num_pending === 0 && info.num_ack_pending === 0
    })

    const deadLetters = await e.jsm.streams.info(dead)
    expect(deadLetters.state.messages).toBe(0)
    const text = await registry.metrics()
    expect(sample(text, 'nats_messages_total', { stream, outcome: 'dead_letter' })).toBe(0)
    expect(sample(text, 'nats_messages_total', { stream, outcome: 'ack' })).toBe(200)
    await worker.stop()
    provider.shutdown()
  }, 40_000)

  it('starts paused when the breaker is already open, and runs once it closes', async () => {
    const stream = await e.stream('GR_OPEN')
    await e.consumer(stream, 'notify')
    await e.fill(stream, 5)
    const registry = new Registry()
    const breaker = createBreaker(async () => undefined, { name: 'api', registry, resetTimeoutMs: 1500 })
    breaker.open()
    const seen: number[] = []
    const worker = createWorker({
      connection: e.nc,
      stream,
      consumer: 'notify',
      breaker,
      registry,
      handler: async (_job, message) => {
        seen.push(message.deliveryCount)
        await breaker.fire()
      },
    })
    await worker.start()
    expect(worker.state).toBe('paused')
    await sleep(300)
    expect((await e.jsm.consumers.info(stream, 'notify')).delivered.consumer_seq).toBe(0)
    expect(seen).toEqual([])
    // opossum half-opens after resetTimeoutMs; the probe succeeds and the breaker closes.
    await waitFor('all five handled', () => seen.length === 5, 10_000)
    expect(worker.state).toBe('running')
    await worker.stop()
    breaker.shutdown()
  })
})
