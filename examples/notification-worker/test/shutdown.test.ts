// Stopping: close() (what SIGTERM runs) stops pulling, lets the notifications in flight finish, and hands
// the rest back at once, so another replica delivers them without waiting for the ack timeout; and the
// entry point itself, on a real socket and a real signal.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { NotificationWorker } from '../src/index.js'
import {
  freePort,
  makeWorker,
  type Names,
  natsClient,
  natsUrl,
  type Provider,
  privateNatsServer,
  sample,
  startProvider,
  uniqueNames,
  waitFor,
} from './helpers.js'

describe.skipIf(!natsUrl)('stopping the notification worker', () => {
  let provider: Provider
  let client: Awaited<ReturnType<typeof natsClient>>
  let names: Names
  const services: NotificationWorker[] = []

  beforeEach(async () => {
    provider = await startProvider()
    client = await natsClient(natsUrl!)
    names = uniqueNames()
    client.own(names.stream)
  })

  afterEach(async () => {
    for (const s of services.splice(0)) await s.close()
    await client.close()
    await provider.close()
  })

  it('finishes what is in flight, hands back the rest, and another replica delivers it once', async () => {
    await provider.faults({ latencyMs: 1000 })
    const first = makeWorker(provider, names, { concurrency: 4 })
    services.push(first)
    await first.start()
    const ids = await client.publishOrders(names.subject, 16)
    await waitFor('4 notifications in flight', async () => (await provider.messages()).stats.requests >= 4)

    const result = await first.close()
    expect(result?.exitCode).toBe(0)
    expect(first.worker?.state).toBe('stopped')
    // The four in flight were allowed to finish (stopTimeoutMs is above the provider's latency).
    const afterStop = await provider.messages()
    expect(afterStop.count).toBe(afterStop.stats.requests)
    expect(afterStop.count).toBeGreaterThanOrEqual(4)

    await provider.faults('heal')
    const second = makeWorker(provider, names, { concurrency: 4 })
    services.push(second)
    await second.start()
    // Well under the consumer's 30 s ack wait: the messages the first worker held were nak'ed, not dropped.
    const list = await waitFor(
      'every order delivered by the second replica',
      async () => {
        const l = await provider.messages()
        return l.count === 16 ? l : undefined
      },
      15_000,
    )
    expect(list.messages.map((m) => m.idempotencyKey).sort()).toEqual([...ids].sort())
    expect(list.stats.replayed).toBe(0)
    expect(Math.max(...Object.values(list.attempts))).toBe(1)
  })

  it('refuses options it does not know, naming them', () => {
    expect(() => makeWorker(provider, names, { concurency: 4 } as never)).toThrow(
      expect.objectContaining({ code: 'GR_ERR_INVALID_OPTION', option: 'concurency' }),
    )
  })
})

// The entry point with the names of the real stack (ORDERS, orders.created): on a private nats-server, so
// the shared one never sees them.
describe.skipIf(!natsUrl)('node dist/main.js', () => {
  let child: ChildProcess | undefined
  let nats: Awaited<ReturnType<typeof privateNatsServer>> | undefined
  let provider: Provider | undefined

  afterEach(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL')
    child = undefined
    await provider?.close()
    await nats?.stop()
  })

  it('reads the environment, serves the admin port, delivers, and exits 0 on SIGTERM', async () => {
    nats = await privateNatsServer()
    provider = await startProvider()
    const adminPort = await freePort()
    const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url))
    let stderr = ''
    child = spawn(process.execPath, [entry], {
      env: {
        PATH: process.env.PATH,
        HOST: '127.0.0.1',
        ADMIN_PORT: String(adminPort),
        NATS_URL: nats.url,
        EMAIL_PROVIDER_URL: provider.url,
        LOG_LEVEL: 'warn',
        SHUTDOWN_DRAIN_DELAY_MS: '0',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    child.stderr?.on('data', (chunk) => {
      stderr += chunk
    })
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)))
    const base = `http://127.0.0.1:${adminPort}`
    await waitFor('GET /readyz 200', async () => (await fetch(`${base}/readyz`)).status === 200, 20_000)

    const client = await natsClient(nats.url)
    try {
      const ids = await client.publishOrders('orders.created', 3)
      await waitFor('3 deliveries', async () => (await provider!.messages()).count === 3)
      expect((await provider.messages()).messages.map((m) => m.idempotencyKey).sort()).toEqual(
        [...ids].sort(),
      )
      const labels = { stream_name: 'ORDERS', consumer_name: 'notification-worker' }
      await waitFor('queue_depth_messages 0 for ORDERS', async () => {
        const text = await (await fetch(`${base}/metrics`)).text()
        return sample(text, 'queue_depth_messages', labels) === 0
      })
      const info = await client.jsm.streams.info('ORDERS')
      expect(info.config.subjects).toEqual(['orders.>'])
    } finally {
      await client.close()
    }

    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(stderr).toBe('')
  })

  it('exits 1 naming the variable when the environment is wrong', async () => {
    const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url))
    let stderr = ''
    child = spawn(process.execPath, [entry], {
      env: { PATH: process.env.PATH, ADMIN_PORT: 'ninety' },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    child.stderr?.on('data', (chunk) => {
      stderr += chunk
    })
    const code = await new Promise<number | null>((resolve) => child!.once('exit', (c) => resolve(c)))
    expect(code).toBe(1)
    expect(stderr).toContain('ADMIN_PORT')
  })
})
