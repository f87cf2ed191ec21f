import { connect, createServer, type Socket } from 'node:net'
import { BreakerOpenError, PoolTimeoutError } from '@goreliable/core'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { isUpstreamConnectionError } from '../src/error-reply.js'
import { FastifyErrorCodes } from '../src/errors.js'
import { buildApp, closedPort } from './helpers.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

const noStack = (body: string) => {
  expect(body).not.toMatch(/\bat .+:\d+:\d+/)
  expect(body).not.toContain('"stack"')
}

describe('errors a client can act on', () => {
  it('answers an error carrying retryAfterSeconds with 503 and Retry-After', async () => {
    app = await buildApp({ admin: false })
    app.get('/breaker', async () => {
      throw new BreakerOpenError('orders', 17)
    })
    app.get('/pool', async () => {
      throw new PoolTimeoutError('db', 2000, 2)
    })
    app.get('/rate', async () => {
      throw Object.assign(new Error('Too many requests for this key'), {
        statusCode: 429,
        retryAfterSeconds: 3.2,
      })
    })
    const breaker = await app.inject('/breaker')
    expect(breaker.statusCode).toBe(503)
    expect(breaker.headers['retry-after']).toBe('17')
    expect(breaker.json()).toEqual({
      statusCode: 503,
      code: 'GR_ERR_BREAKER_OPEN',
      error: 'Service Unavailable',
      message: 'Circuit breaker "orders" is open',
    })
    noStack(breaker.body)

    const pool = await app.inject('/pool')
    expect(pool.statusCode).toBe(503)
    expect(pool.headers['retry-after']).toBe('2')
    expect(pool.json().code).toBe('GR_ERR_POOL_TIMEOUT')

    const rate = await app.inject('/rate')
    expect(rate.statusCode).toBe(429)
    expect(rate.headers['retry-after']).toBe('4')
    expect(rate.json()).toMatchObject({
      code: FastifyErrorCodes.SERVICE_UNAVAILABLE,
      error: 'Too Many Requests',
    })
  })

  it('answers with the Retry-After of an open breaker from app.goreliable.breaker()', async () => {
    app = await buildApp({ admin: false })
    const upstream = app.goreliable.breaker(
      'inventory',
      async () => {
        throw new Error('down')
      },
      { resetTimeoutMs: 30_000, timeoutMs: false },
    )
    app.get('/stock', () => upstream.fire())
    expect((await app.inject('/stock')).statusCode).toBe(500) // the failure that opens it
    const refused = await app.inject('/stock')
    expect(refused.statusCode).toBe(503)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(29)
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(30)
  })

  it('answers a refused upstream connection (fetch) with 503 and Retry-After 5, never 500 or 502', async () => {
    app = await buildApp({ admin: false })
    const port = await closedPort()
    app.get('/fetch', async () => (await fetch(`http://127.0.0.1:${port}/`)).text())
    app.get('/socket', () => {
      return new Promise((_resolve, reject) => {
        connect(port, '127.0.0.1').on('error', reject)
      })
    })
    for (const path of ['/fetch', '/socket']) {
      const res = await app.inject(path)
      expect(res.statusCode).toBe(503)
      expect(res.headers['retry-after']).toBe('5')
      expect(res.json()).toEqual({
        statusCode: 503,
        code: FastifyErrorCodes.UPSTREAM_UNAVAILABLE,
        error: 'Service Unavailable',
        message: 'An upstream service is unavailable',
      })
      // The upstream's address stays in the logs, out of the answer.
      expect(res.body).not.toContain(String(port))
      noStack(res.body)
    }
  })

  it.each([
    // Closed after reading the request: undici reports "other side closed".
    ['UND_ERR_SOCKET', (socket: Socket) => socket.destroy()],
    // Reset (RST) after reading the request.
    ['ECONNRESET', (socket: Socket) => socket.resetAndDestroy()],
  ])(
    'answers an upstream that drops the connection (%s) with upstreamRetryAfterSeconds',
    async (code, drop) => {
      const rude = createServer((socket) => socket.once('data', () => drop(socket)))
      await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve))
      const { port } = rude.address() as { port: number }
      try {
        app = await buildApp({ admin: false, upstreamRetryAfterSeconds: 12 })
        let cause: unknown
        app.get('/fetch', async () => {
          try {
            return await (await fetch(`http://127.0.0.1:${port}/`)).text()
          } catch (err) {
            cause = (err as Error).cause
            throw err
          }
        })
        const res = await app.inject('/fetch')
        expect((cause as { code?: string }).code).toBe(code)
        expect(res.statusCode).toBe(503)
        expect(res.headers['retry-after']).toBe('12')
      } finally {
        await new Promise((resolve) => rude.close(resolve))
      }
    },
  )

  it('also answers reliability errors thrown by a route hook', async () => {
    app = await buildApp({ admin: false })
    app.get(
      '/hooked',
      { preHandler: async () => Promise.reject(new BreakerOpenError('auth', 4)) },
      async () => 'x',
    )
    const res = await app.inject('/hooked')
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBe('4')
  })

  it('is not stripped by a response schema for 503', async () => {
    app = await buildApp({ admin: false })
    app.get(
      '/schema',
      { schema: { response: { 503: { type: 'object', properties: { statusCode: { type: 'number' } } } } } },
      async () => {
        throw new BreakerOpenError('x', 1)
      },
    )
    expect((await app.inject('/schema')).json()).toMatchObject({
      code: 'GR_ERR_BREAKER_OPEN',
      message: expect.any(String),
    })
  })
})

describe("a handler's own errors keep Fastify's normal handling", () => {
  it("answers with Fastify's default handler", async () => {
    app = await buildApp({ admin: false })
    app.get('/bug', async () => {
      throw new Error('a bug')
    })
    app.get('/teapot', async () => {
      throw Object.assign(new Error('short and stout'), { statusCode: 418 })
    })
    app.get('/valid', { schema: { querystring: { type: 'object', required: ['q'] } } }, async () => 'ok')
    const bug = await app.inject('/bug')
    expect(bug.statusCode).toBe(500)
    expect(bug.json()).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'a bug' })
    expect((await app.inject('/teapot')).statusCode).toBe(418)
    expect((await app.inject('/valid')).json()).toMatchObject({ statusCode: 400, code: 'FST_ERR_VALIDATION' })
  })

  it("keeps the app's own setErrorHandler working, without Fastify's override warning", async () => {
    const warnings: string[] = []
    const onWarning = (w: Error & { code?: string }) => warnings.push(w.code ?? w.message)
    process.on('warning', onWarning)
    try {
      app = await buildApp({ admin: false })
      app.setErrorHandler(async (error, _req, reply) =>
        reply.code(422).send({ mine: (error as Error).message }),
      )
      const port = await closedPort()
      app.get('/bug', async () => {
        throw new Error('handled by the app')
      })
      app.get('/upstream', async () => fetch(`http://127.0.0.1:${port}/`))
      app.register(async (child) => {
        child.setErrorHandler(async (_error, _req, reply) => reply.code(409).send({ child: true }))
        child.get('/child', async () => {
          throw new Error('child')
        })
        child.get('/child-breaker', async () => {
          throw new BreakerOpenError('x', 9)
        })
      })
      const bug = await app.inject('/bug')
      expect(bug.statusCode).toBe(422)
      expect(bug.json()).toEqual({ mine: 'handled by the app' })
      expect((await app.inject('/upstream')).statusCode).toBe(503)
      expect((await app.inject('/child')).json()).toEqual({ child: true })
      const breaker = await app.inject('/child-breaker')
      expect(breaker.statusCode).toBe(503)
      expect(breaker.headers['retry-after']).toBe('9')
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.filter((w) => w.startsWith('FSTWRN'))).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })

  it("keeps a route's own errorHandler working", async () => {
    app = await buildApp({ admin: false })
    app.get(
      '/own',
      { errorHandler: (_error, _req, reply) => reply.code(400).send({ own: true }) },
      async () => {
        throw new Error('x')
      },
    )
    app.get(
      '/own-breaker',
      { errorHandler: (_error, _req, reply) => reply.code(400).send({ own: true }) },
      async () => {
        throw new BreakerOpenError('x', 2)
      },
    )
    expect((await app.inject('/own')).json()).toEqual({ own: true })
    expect((await app.inject('/own-breaker')).statusCode).toBe(503)
  })
})

describe('isUpstreamConnectionError', () => {
  const withCode = (code: string) => Object.assign(new Error(code), { code })
  it.each([
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EPIPE',
    'EHOSTUNREACH',
    'UND_ERR_SOCKET',
    'UND_ERR_CONNECT_TIMEOUT',
  ])('recognises %s on the error, as a fetch cause, and inside an AggregateError', (code) => {
    expect(isUpstreamConnectionError(withCode(code))).toBe(true)
    expect(isUpstreamConnectionError(new TypeError('fetch failed', { cause: withCode(code) }))).toBe(true)
    const aggregate = new AggregateError([withCode(code)], 'all addresses failed')
    expect(isUpstreamConnectionError(new TypeError('fetch failed', { cause: aggregate }))).toBe(true)
  })

  it('rejects everything else', () => {
    expect(isUpstreamConnectionError(new Error('x'))).toBe(false)
    expect(isUpstreamConnectionError(withCode('ENOENT'))).toBe(false)
    expect(isUpstreamConnectionError(new TypeError('fetch failed', { cause: new Error('bad port') }))).toBe(
      false,
    )
    expect(isUpstreamConnectionError(null)).toBe(false)
    expect(isUpstreamConnectionError('ECONNREFUSED')).toBe(false)
    const loop: { code: string; cause?: unknown } = { code: 'X' }
    loop.cause = loop
    expect(isUpstreamConnectionError(loop)).toBe(false)
  })
})
