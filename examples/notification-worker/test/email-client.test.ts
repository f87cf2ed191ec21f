// How the provider's answers are classified: that decides whether the breaker opens (the provider's fault)
// or the message is retried and finally dead-lettered (the message's fault).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEmailClient } from '../src/index.js'
import { startProvider } from './helpers.js'

const order = { id: 'ord_42', amount: 1999, currency: 'USD' }

describe('email client against the real fake provider', () => {
  it('delivers, then answers replayed for the same order id', async () => {
    const provider = await startProvider()
    try {
      const client = createEmailClient({
        baseUrl: `${provider.url}/`,
        requestTimeoutMs: 2000,
        recipient: 'a@b.c',
      })
      expect(await client.send(order)).toBe('delivered')
      expect(await client.send(order)).toBe('replayed')
      const list = await provider.messages()
      expect(list.count).toBe(1)
      expect(list.messages[0]).toMatchObject({ idempotencyKey: 'ord_42', to: 'a@b.c' })
      expect(list.messages[0]?.body).toContain('19.99 USD')
    } finally {
      await provider.close()
    }
  })
})

describe('email client against a stand-in', () => {
  let server: Server
  let url: string
  let answer = { status: 201, delayMs: 0 }

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume()
      setTimeout(
        () => res.writeHead(answer.status, { 'content-type': 'application/json' }).end('{}'),
        answer.delayMs,
      )
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  it.each([
    [400, 'NOTIFY_PROVIDER_REJECTED'],
    [422, 'NOTIFY_PROVIDER_REJECTED'],
    [429, 'NOTIFY_PROVIDER_UNAVAILABLE'],
    [500, 'NOTIFY_PROVIDER_UNAVAILABLE'],
    [503, 'NOTIFY_PROVIDER_UNAVAILABLE'],
  ])('answer %i is %s', async (status, code) => {
    answer = { status, delayMs: 0 }
    const client = createEmailClient({ baseUrl: url, requestTimeoutMs: 2000, recipient: 'a@b.c' })
    await expect(client.send(order)).rejects.toMatchObject({ code, statusCode: status })
  })

  it('gives up at requestTimeoutMs as unavailable', async () => {
    answer = { status: 201, delayMs: 1500 }
    const client = createEmailClient({ baseUrl: url, requestTimeoutMs: 100, recipient: 'a@b.c' })
    await expect(client.send(order)).rejects.toMatchObject({ code: 'NOTIFY_PROVIDER_UNAVAILABLE' })
  })

  it('reports an abort by the worker as NOTIFY_ABORTED, which is no provider failure', async () => {
    answer = { status: 201, delayMs: 1500 }
    const client = createEmailClient({ baseUrl: url, requestTimeoutMs: 5000, recipient: 'a@b.c' })
    const controller = new AbortController()
    const sent = client.send(order, controller.signal)
    setTimeout(() => controller.abort(), 50)
    await expect(sent).rejects.toMatchObject({ code: 'NOTIFY_ABORTED' })
  })

  it('is unavailable when nothing listens', async () => {
    const client = createEmailClient({
      baseUrl: 'http://127.0.0.1:1',
      requestTimeoutMs: 2000,
      recipient: 'a@b.c',
    })
    await expect(client.send(order)).rejects.toMatchObject({ code: 'NOTIFY_PROVIDER_UNAVAILABLE' })
  })
})
