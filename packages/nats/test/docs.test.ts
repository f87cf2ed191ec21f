// Keeps README.md and the code in step: every error code, option key, metric, outcome label and
// dead-letter header this package defines must be documented, so a new one without its docs fails CI.
import { readFileSync } from 'node:fs'
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import {
  createQueueDepthCollector,
  createQueueDepthCollectorOptionKeys,
  createWorker,
  createWorkerOptionKeys,
  DEAD_LETTER_HEADERS,
  MESSAGE_OUTCOMES,
  NatsErrorCodes,
  natsHealthCheckOptionKeys,
  publish,
  publishOptionKeys,
} from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const documented = (name: string) => readme.includes(`\`${name}\``)

describe('README.md documents', () => {
  it.each(Object.values(NatsErrorCodes))('error code %s', (code) => {
    expect(documented(code)).toBe(true)
  })

  const optionKeys = {
    createWorker: createWorkerOptionKeys,
    createQueueDepthCollector: createQueueDepthCollectorOptionKeys,
    publish: publishOptionKeys,
    natsHealthCheck: natsHealthCheckOptionKeys,
  }
  const pairs = Object.entries(optionKeys).flatMap(([factory, keys]) =>
    keys.map((k) => [factory, k] as const),
  )
  it.each(pairs)('option of %s: %s', (_factory, key) => {
    expect(documented(key)).toBe(true)
  })

  it.each([...MESSAGE_OUTCOMES])('outcome %s', (outcome) => {
    expect(documented(outcome)).toBe(true)
  })

  it.each(Object.values(DEAD_LETTER_HEADERS))('dead-letter header %s', (header) => {
    expect(documented(header)).toBe(true)
  })

  it('every metric the package defines', async () => {
    // No server needed: the families exist once the factories ran.
    const registry = new Registry()
    const connection = {
      subscribe() {},
      publish() {},
      isClosed: () => false,
      status: () => ({ [Symbol.asyncIterator]: async function* () {} }),
    } as unknown as NatsConnection
    createWorker({ connection, stream: 'S', consumer: 'c', registry, handler: () => {} })
    const info = { stream_name: 'S', name: 'c', num_pending: 1, num_ack_pending: 0, num_redelivered: 0 }
    const jsm = { consumers: { info: async () => info } } as unknown as JetStreamManager
    createQueueDepthCollector({ jsm, stream: 'S', consumer: 'c', registry })
    const js = {
      publish: async () => ({ stream: 'S', seq: 1, duplicate: false }),
    } as unknown as JetStreamClient
    await publish(js, 'S.x', {}, { msgID: '1', registry })

    const defaults = new Registry()
    collectDefaultMetrics({ register: defaults })
    const theirs = new Set((await defaults.getMetricsAsJSON()).map((m) => m.name))
    const ours = (await registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => !theirs.has(n))
    expect(ours.length).toBeGreaterThan(10)
    expect(ours.filter((n) => !documented(n))).toEqual([])
  })
})
