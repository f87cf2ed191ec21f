// Starting before NATS is there (Compose and Kubernetes start everything at once): the admin server answers
// at once, liveness passes, startup and readiness fail naming what is missing, and the worker starts by
// itself when NATS comes.
import { afterEach, describe, expect, it } from 'vitest'
import type { NotificationWorker } from '../src/index.js'
import {
  adminUrl,
  freePort,
  makeWorker,
  natsClient,
  natsUrl,
  type Provider,
  privateNatsServer,
  startProvider,
  uniqueNames,
  waitFor,
} from './helpers.js'

describe.skipIf(!natsUrl)('starting before NATS is reachable', () => {
  let service: NotificationWorker | undefined
  let nats: Awaited<ReturnType<typeof privateNatsServer>> | undefined
  let provider: Provider | undefined

  afterEach(async () => {
    await service?.close()
    await nats?.stop()
    await provider?.close()
  })

  it('probes say why it is not ready, then it starts when NATS comes', async () => {
    provider = await startProvider()
    const port = await freePort()
    const names = uniqueNames()
    service = makeWorker(provider, names, { natsUrl: `nats://127.0.0.1:${port}` })
    const started = service.start()
    const base = await waitFor('the admin server', () => service!.adminAddress() && adminUrl(service!))

    expect((await fetch(`${base}/livez`)).status).toBe(200)
    expect((await fetch(`${base}/startupz`)).status).toBe(503)
    const ready = await fetch(`${base}/readyz`)
    expect(ready.status).toBe(503)
    expect(await ready.text()).toContain('notification-worker')

    nats = await privateNatsServer(port)
    await started
    await waitFor('GET /readyz 200', async () => (await fetch(`${base}/readyz`)).status === 200)
    expect((await fetch(`${base}/startupz`)).status).toBe(200)

    const client = await natsClient(nats.url)
    try {
      await client.publishOrders(names.subject, 2)
      await waitFor('2 deliveries', async () => (await provider!.messages()).count === 2)
    } finally {
      await client.close()
    }
  })
})
