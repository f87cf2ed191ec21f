import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createWorker } from '../src/index.js'
import { natsUrl, privateServer, server, waitFor } from './helpers.js'

describe.skipIf(!natsUrl)('a worker across a server restart', () => {
  it('asks again after the reconnect and handles what was published before and after', async () => {
    const nats = await privateServer()
    const nc = await connect({ servers: server(nats.url), reconnectTimeWait: 100, maxReconnectAttempts: -1 })
    try {
      const jsm = await jetstreamManager(nc)
      await jsm.streams.add({ name: 'RESTART', subjects: ['restart.>'] })
      await jsm.consumers.add('RESTART', {
        durable_name: 'work',
        ack_policy: AckPolicy.Explicit,
        max_deliver: -1,
      })
      const js = jetstream(nc)
      const handled = new Set<number>()
      const worker = createWorker<{ id: number }>({
        connection: nc,
        stream: 'RESTART',
        consumer: 'work',
        concurrency: 4,
        registry: new Registry(),
        handler: (job) => {
          handled.add(job.id)
        },
      })
      await worker.start()
      for (let id = 0; id < 20; id++) await js.publish('restart.job', JSON.stringify({ id }))
      await waitFor('the first 20', () => handled.size === 20)
      // The restarted server knows the stream and consumer (file store) but not the worker's pull requests.
      await nats.kill()
      await nats.restart()
      await waitFor('the reconnect', async () => {
        try {
          await nc.flush()
          return true
        } catch {
          return false
        }
      })
      for (let id = 20; id < 40; id++) await js.publish('restart.job', JSON.stringify({ id }))
      await waitFor('the 20 published after the restart', () => handled.size === 40, 20_000)
      expect(worker.state).toBe('running')
      await worker.stop()
    } finally {
      await nc.close().catch(() => undefined)
      await nats.stop()
    }
  }, 40_000)
})
