import { createHealth, createShutdown } from '@goreliable/core'
import { connect } from '@nats-io/transport-node'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createQueueDepthCollector, createWorker, natsHealthCheck } from '../src/index.js'
import { type Env, env, natsUrl, privateServer, sample, server, waitFor } from './helpers.js'

describe.skipIf(!natsUrl)('readiness and hosts', () => {
  let e: Env
  beforeAll(async () => {
    e = await env(natsUrl!)
  })
  afterAll(async () => {
    await e?.close()
  })

  it('natsHealthCheck passes while connected, fails while reconnecting and once closed', async () => {
    const nats = await privateServer()
    const nc = await connect({ servers: server(nats.url), reconnectTimeWait: 100, maxReconnectAttempts: -1 })
    const health = createHealth({ cacheMs: 0 })
    health.addCheck(natsHealthCheck(nc))
    try {
      expect((await health.report('readiness')).status).toBe('ok')
      await nats.kill()
      const down = await waitFor('readiness to fail', async () => {
        const r = await health.report('readiness')
        return r.status === 'fail' ? r : undefined
      })
      expect(down.checks[0]).toMatchObject({ name: 'nats', status: 'fail' })
      expect(down.checks[0]!.error).toMatch(/GR_ERR_NATS_DISCONNECTED|GR_ERR_CHECK_TIMEOUT/)
      await nc.close()
      const closed = await health.report('readiness')
      expect(closed.checks[0]!.error).toContain('GR_ERR_NATS_DISCONNECTED')
      expect(closed.checks[0]!.error).toContain('closed')
    } finally {
      await nc.close().catch(() => undefined)
      await nats.stop()
    }
  })

  it('a worker given a host reports into its registry, checks the connection, and stops on shutdown', async () => {
    const stream = await e.stream('GR_HOST')
    await e.consumer(stream, 'work')
    await e.fill(stream, 20)
    const registry = new Registry()
    const health = createHealth({ registry, cacheMs: 0 })
    const exits: number[] = []
    const shutdown = createShutdown({ health, signals: [], exit: (code) => exits.push(code) })
    const host = { registry, health, shutdown }
    let handled = 0
    const worker = createWorker({
      connection: e.nc,
      stream,
      consumer: 'work',
      host,
      handler: () => {
        handled++
      },
    })
    // A second worker on the same connection adds no second check; one on the same consumer gets its own closer.
    const twin = createWorker({ connection: e.nc, stream, consumer: 'work', host, handler: () => {} })
    createQueueDepthCollector({ jsm: e.jsm, stream, consumer: 'work', host })
    await worker.start()
    await waitFor('all handled', () => handled === 20)
    const report = await health.report('readiness')
    expect(report.checks.map((c) => c.name)).toEqual(['nats'])
    expect(report.status).toBe('ok')
    const text = await registry.metrics()
    expect(sample(text, 'nats_messages_total', { stream, outcome: 'ack' })).toBe(20)
    expect(text).toContain('queue_depth_messages{')
    expect(sample(text, 'goreliable_build_info', { package: '@goreliable/nats' })).toBe(1)

    const ended = await shutdown.shutdown('test')
    expect(ended.exitCode).toBe(0)
    expect(worker.state).toBe('stopped')
    expect(twin.state).toBe('stopped')
  })
})
