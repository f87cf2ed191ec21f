import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTcpServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createFaultProxy,
  nowMs,
  orderRequests,
  runLoad,
  startLoad,
  summarize,
  timeToRecover,
} from '../src/index.js'

const servers: Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((resolve) => s.close(resolve))
  }
})

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => {
      body += c
    })
    req.on('end', () => handler(req, res, body))
  })
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}

describe('startLoad', () => {
  it('sends at the target rate and records every answer with its time and latency', async () => {
    const url = await serve((_req, res) => res.end('ok'))
    const started = nowMs()
    const result = await runLoad({ url: `${url}/hello`, ratePerSecond: 100, durationMs: 1000 })
    expect(result.mode).toBe('rate')
    // 100/s for one second: allow for a slow timer at either end.
    expect(result.samples.length).toBeGreaterThanOrEqual(85)
    expect(result.samples.length).toBeLessThanOrEqual(102)
    expect(result.samples.every((s) => s.status === 200)).toBe(true)
    const ats = result.samples.map((s) => s.at).sort((a, b) => a - b)
    expect(ats[0]!).toBeGreaterThanOrEqual(started)
    expect(ats.at(-1)! - ats[0]!).toBeGreaterThan(800)
    expect(result.samples.every((s) => s.latencyMs > 0 && s.latencyMs < 5000)).toBe(true)
    expect(result.dropped).toBe(0)
  })

  it('honourRetryAfter: a closed-loop client waits Retry-After after a 503, and retries at once without it', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(503, { 'retry-after': '1' })
      res.end()
    })
    const polite = await runLoad({ url, concurrency: 2, durationMs: 1500, honourRetryAfter: true })
    // Two clients, one request each per second of Retry-After: 2 at once, 2 after 1 s, nothing more.
    expect(polite.samples.length).toBeGreaterThanOrEqual(2)
    expect(polite.samples.length).toBeLessThanOrEqual(4)
    const eager = await runLoad({ url, concurrency: 2, durationMs: 500 })
    expect(eager.samples.length).toBeGreaterThan(20)
    expect(() => runLoad({ url, ratePerSecond: 10, durationMs: 100, honourRetryAfter: true })).toThrow(
      /honourRetryAfter/,
    )
  })

  it('keeps at most `concurrency` requests in flight in closed-loop mode', async () => {
    let current = 0
    let peak = 0
    const url = await serve((_req, res) => {
      current++
      peak = Math.max(peak, current)
      setTimeout(() => {
        current--
        res.end()
      }, 20)
    })
    const result = await runLoad({ url, concurrency: 4, durationMs: 600 })
    expect(result.mode).toBe('concurrency')
    expect(peak).toBe(4)
    // 4 clients, 20 ms each, 600 ms: about 120; bounded loosely for a busy machine.
    expect(result.samples.length).toBeGreaterThan(30)
    expect(result.samples.length).toBeLessThan(200)
  })

  it('sends what the generator builds and records the chosen headers, tags and bodies', async () => {
    const seen: {
      method?: string
      url?: string
      auth?: string
      key?: string
      type?: string
      body: string
    }[] = []
    const url = await serve((req, res, body) => {
      seen.push({
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        key: req.headers['idempotency-key'] as string,
        type: req.headers['content-type'],
        body,
      })
      if (seen.length % 2 === 0) {
        res.writeHead(503, { 'retry-after': '3' }).end()
      } else {
        res
          .writeHead(201, { 'content-type': 'application/json' })
          .end(JSON.stringify({ id: `o${seen.length}` }))
      }
    })
    const result = await runLoad({
      url,
      ratePerSecond: 40,
      durationMs: 250,
      request: orderRequests({ token: () => 'tok', currencies: ['EUR'] }),
      keepBody: (status) => status === 201,
    })
    expect(seen.length).toBeGreaterThan(3)
    for (const s of seen) {
      expect(s).toMatchObject({
        method: 'POST',
        url: '/api/v1/orders',
        auth: 'Bearer tok',
        type: 'application/json',
      })
      const body = JSON.parse(s.body) as { amount: number; currency: string }
      expect(body.currency).toBe('EUR')
      expect(body.amount).toBeGreaterThanOrEqual(100)
    }
    const created = result.samples.filter((s) => s.status === 201)
    const refused = result.samples.filter((s) => s.status === 503)
    expect(created.length).toBeGreaterThan(0)
    expect(refused.length).toBeGreaterThan(0)
    expect(created.every((s) => JSON.parse(s.body!).id.startsWith('o'))).toBe(true)
    expect(refused.every((s) => s.headers?.['retry-after'] === '3' && s.body === undefined)).toBe(true)
    expect(new Set(result.samples.map((s) => s.tag)).size).toBe(result.samples.length)
    expect(seen.map((s) => s.key).sort()).toEqual(result.samples.map((s) => s.tag).sort())
  })

  it('records status 0 with an error code for refused, reset and timed-out requests', async () => {
    const closed = await serve(() => {})
    servers[0]!.close()
    const refused = await runLoad({ url: closed, ratePerSecond: 20, durationMs: 200 })
    expect(refused.samples.length).toBeGreaterThan(0)
    expect(refused.samples.every((s) => s.status === 0 && s.error === 'ECONNREFUSED')).toBe(true)

    const resetter = createTcpServer((s) => s.once('data', () => s.resetAndDestroy()))
    resetter.listen(0, '127.0.0.1')
    await once(resetter, 'listening')
    const reset = await runLoad({
      url: `http://127.0.0.1:${(resetter.address() as { port: number }).port}`,
      ratePerSecond: 20,
      durationMs: 200,
    })
    resetter.close()
    expect(reset.samples.every((s) => s.status === 0 && s.error === 'ECONNRESET')).toBe(true)

    const silent = await serve(() => {})
    const slow = await runLoad({ url: silent, ratePerSecond: 10, durationMs: 200, timeoutMs: 300 })
    expect(slow.samples.every((s) => s.status === 0 && s.error === 'TIMEOUT')).toBe(true)
    expect(slow.samples.every((s) => s.latencyMs >= 250)).toBe(true)
  })

  it('drops requests due while maxInFlight are in flight, and counts them', async () => {
    const url = await serve((_req, res) => setTimeout(() => res.end(), 400))
    const result = await runLoad({ url, ratePerSecond: 100, durationMs: 300, maxInFlight: 5 })
    expect(result.dropped).toBeGreaterThan(10)
    const summary = summarize(result.samples)
    expect(summary.dropped).toBe(result.dropped)
    expect(summary.statusCounts['200']).toBe(5)
    expect(summary.errorCodes.DROPPED).toBe(result.dropped)
    // Dropped requests count as errors but carry no latency.
    expect(summary.p50Ms).toBeGreaterThanOrEqual(350)
  })

  it('stops early on stop() and on an aborted signal', async () => {
    const url = await serve((_req, res) => res.end())
    const run = startLoad({ url, ratePerSecond: 50, durationMs: 60_000 })
    await new Promise((r) => setTimeout(r, 200))
    expect(run.samples.length).toBeGreaterThan(0)
    const result = await run.stop()
    expect(result.endedAt - result.startedAt).toBeLessThan(5000)
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    const aborted = await runLoad({ url, concurrency: 2, durationMs: 60_000, signal: controller.signal })
    expect(aborted.endedAt - aborted.startedAt).toBeLessThan(5000)
  })

  it('sees a reset through the fault proxy as errors, then a measurable recovery', async () => {
    const url = new URL(await serve((_req, res) => res.end('ok')))
    const proxy = await createFaultProxy({ targetHost: '127.0.0.1', targetPort: Number(url.port) })
    try {
      const run = startLoad({ url: `http://127.0.0.1:${proxy.port}/`, ratePerSecond: 100, durationMs: 2500 })
      await new Promise((r) => setTimeout(r, 500))
      const faultAt = nowMs()
      proxy.setFault({ mode: 'reset' })
      await new Promise((r) => setTimeout(r, 500))
      const healedAt = nowMs()
      proxy.setFault({ mode: 'none' })
      const result = await run.result
      const during = summarize(result.samples, { from: faultAt, to: healedAt })
      expect(during.errorRate).toBeGreaterThan(0.9)
      expect(
        Object.keys(during.errorCodes).every((c) => ['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE'].includes(c)),
      ).toBe(true)
      // Requests that ended before the fault all succeeded (one sent just before it may fail by it).
      expect(summarize(result.samples, { to: faultAt, include: 'completed' }).errorRate).toBe(0)
      const recovered = timeToRecover(result.samples, { after: healedAt, sustainMs: 500 })
      expect(recovered).not.toBeNull()
      expect(recovered!).toBeLessThan(1000)
    } finally {
      await proxy.close()
    }
  })

  it('validates its options, naming the bad one', () => {
    expect(() => startLoad({ url: 'http://127.0.0.1:1', durationMs: 10 })).toThrow(
      expect.objectContaining({ code: 'GR_ERR_INVALID_OPTION', option: 'ratePerSecond' }),
    )
    expect(() =>
      startLoad({ url: 'http://127.0.0.1:1', durationMs: 10, ratePerSecond: 1, concurrency: 1 }),
    ).toThrow(expect.objectContaining({ option: 'ratePerSecond' }))
    expect(() => startLoad({ url: 'ftp://x', durationMs: 10, concurrency: 1 })).toThrow(
      expect.objectContaining({ option: 'url' }),
    )
    // @ts-expect-error misspelt option
    expect(() => startLoad({ url: 'http://127.0.0.1:1', durationMs: 10, concurrency: 1, rate: 5 })).toThrow(
      expect.objectContaining({ option: 'rate' }),
    )
    expect(() => orderRequests({ token: '' })).toThrow(expect.objectContaining({ option: 'token' }))
  })
})
