import { createLogger } from '@goreliable/core'
import Fastify, { type FastifyInstance, LogController } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { goreliable } from '../src/index.js'
import type { GoreliableOptions } from '../src/types.js'

interface Line {
  level: number
  msg: string
  [key: string]: unknown
}

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

/** An app logging through core's logger into an array; Fastify's own request lines off unless asked. */
async function loggingApp(
  options: GoreliableOptions,
  fastifyLogsRequests = false,
  level: 'info' | 'debug' = 'info',
) {
  const raw: string[] = []
  const logger = createLogger({
    serviceName: 'test',
    level,
    destination: { write: (l: string) => raw.push(l) },
  })
  const created = Fastify({
    loggerInstance: logger,
    ...(fastifyLogsRequests ? {} : { logController: new LogController({ disableRequestLogging: true }) }),
  }) as unknown as FastifyInstance
  app = created
  await created.register(goreliable, { admin: false, shutdown: false, ...options })
  created.get('/orders/:id', async () => ({ ok: true }))
  created.get('/bug', async () => {
    throw new Error('a bug')
  })
  await created.ready()
  const lines = () => raw.map((l) => JSON.parse(l) as Line)
  return { raw, lines }
}

const secret = 'Bearer s3cr3t-t0ken-value'

describe('request logging', () => {
  it('writes one line per request at response, with reqId, method, route, statusCode and durationMs', async () => {
    const { lines } = await loggingApp({ requestLogging: true })
    await app!.inject({ url: '/orders/42', headers: { authorization: secret } })
    await app!.inject('/nowhere')
    const requestLines = lines().filter((l) => l.msg === 'request completed')
    expect(requestLines).toHaveLength(2)
    expect(requestLines[0]).toMatchObject({
      level: 30,
      reqId: expect.any(String),
      method: 'GET',
      route: '/orders/:id',
      statusCode: 200,
      durationMs: expect.any(Number),
      service: 'test',
    })
    expect(requestLines[1]).toMatchObject({ route: '__unmatched__', statusCode: 404 })
    expect(requestLines[0]!.reqId).not.toBe(requestLines[1]!.reqId)
    // Nothing else is written per request.
    expect(lines().filter((l) => l.msg !== 'request completed')).toEqual([])
  })

  it('never writes the authorization header (nor cookies), even with Fastify’s own request lines on', async () => {
    for (const fastifyLogs of [false, true]) {
      const { raw } = await loggingApp({ requestLogging: true }, fastifyLogs)
      for (const url of ['/orders/1', '/bug', '/nowhere']) {
        await app!.inject({ url, headers: { authorization: secret, cookie: 'session=c00kie-secret' } })
      }
      expect(raw.length).toBeGreaterThanOrEqual(fastifyLogs ? 9 : 3)
      for (const line of raw) {
        expect(line).not.toContain('s3cr3t')
        expect(line).not.toContain('c00kie-secret')
      }
      await app!.close()
      app = undefined
    }
  })

  it('adds the error to the line of a failed request', async () => {
    const { lines } = await loggingApp({ requestLogging: true })
    await app!.inject('/bug')
    const line = lines().find((l) => l.msg === 'request completed')
    expect(line).toMatchObject({ statusCode: 500, route: '/bug', err: { message: 'a bug', type: 'Error' } })
  })

  it('writes at the level asked for', async () => {
    const { lines } = await loggingApp({ requestLogging: { level: 'debug' } }, false, 'debug')
    await app!.inject('/orders/1')
    expect(lines().find((l) => l.msg === 'request completed')?.level).toBe(20)
  })

  it('warns once at register time when Fastify’s own request logging is on as well', async () => {
    const { lines } = await loggingApp({ requestLogging: true }, true)
    const warnings = lines().filter((l) => l.level === 40)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.msg).toContain('disableRequestLogging')
  })

  it('does not warn when Fastify’s request logging is off through the deprecated option', async () => {
    const raw: string[] = []
    const logger = createLogger({ serviceName: 't', destination: { write: (l: string) => raw.push(l) } })
    const created = Fastify({
      loggerInstance: logger,
      disableRequestLogging: true,
    }) as unknown as FastifyInstance
    app = created
    await created.register(goreliable, { admin: false, shutdown: false, requestLogging: true })
    await created.ready()
    expect(raw.filter((l) => l.includes('"level":40'))).toEqual([])
  })

  it('is off by default: no line of ours, and no hook when metrics are off too', async () => {
    const { lines } = await loggingApp({ metrics: false })
    await app!.inject('/orders/1')
    expect(lines()).toEqual([])
    expect(app!.printRoutes({ includeHooks: true })).not.toContain('onResponse')
  })
})
