import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { request } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { adminUrl, buildApp, samples, sleep } from './helpers.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

async function metricsText(a: FastifyInstance): Promise<string> {
  const res = await fetch(`${adminUrl(a)}/metrics`)
  expect(res.status).toBe(200)
  return res.text()
}

const count = (text: string, labels: string) =>
  Number(
    samples(text, 'http_request_duration_seconds_count')
      .find((l) => l.includes(labels))
      ?.split(' ')
      .at(-1) ?? 0,
  )

describe('HTTP metrics', () => {
  it('counts requests by method, route template and status code, never by raw URL', async () => {
    app = await buildApp()
    app.register(
      async (api) => {
        api.get('/orders/:id', async (req) => ({ id: (req.params as { id: string }).id }))
        api.post('/orders', async (_req, reply) => reply.code(201).send({ ok: true }))
      },
      { prefix: '/api/v1' },
    )
    await app.ready()
    for (const id of ['1', '2', 'abc'])
      expect((await app.inject(`/api/v1/orders/${id}`)).statusCode).toBe(200)
    expect((await app.inject({ method: 'POST', url: '/api/v1/orders' })).statusCode).toBe(201)

    const text = await metricsText(app)
    expect(count(text, 'method="GET",route="/api/v1/orders/:id",status_code="200"')).toBe(3)
    expect(count(text, 'method="POST",route="/api/v1/orders",status_code="201"')).toBe(1)
    expect(text).not.toContain('/api/v1/orders/abc')
    expect(text).toContain('# TYPE http_request_duration_seconds histogram')
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/api\/v1\/orders\/:id"/,
    )
  })

  it('counts requests no route matched under route="__unmatched__"', async () => {
    app = await buildApp()
    await app.ready()
    await app.inject('/wp-admin/setup.php')
    await app.inject('/.env')
    const text = await metricsText(app)
    expect(count(text, 'method="GET",route="__unmatched__",status_code="404"')).toBe(2)
    expect(text).not.toContain('wp-admin')
  })

  it('leaves out routes with config.goreliable.metrics false', async () => {
    app = await buildApp()
    app.get('/internal/ping', { config: { goreliable: { metrics: false } } }, async () => 'pong')
    app.get('/counted', async () => 'yes')
    await app.ready()
    await app.inject('/internal/ping')
    await app.inject('/counted')
    const text = await metricsText(app)
    expect(text).not.toContain('/internal/ping')
    expect(count(text, 'route="/counted"')).toBe(1)
  })

  it('records requests answered early by a hook, with their route', async () => {
    app = await buildApp()
    app.addHook('onRequest', async (request, reply) => {
      if (request.headers.authorization === undefined) return reply.code(401).send({ error: 'who are you' })
    })
    app.get('/private/:id', async () => 'secret')
    await app.ready()
    expect((await app.inject('/private/7')).statusCode).toBe(401)
    expect((await app.inject({ url: '/private/7', headers: { authorization: 'x' } })).statusCode).toBe(200)
    const text = await metricsText(app)
    expect(count(text, 'method="GET",route="/private/:id",status_code="401"')).toBe(1)
    expect(count(text, 'method="GET",route="/private/:id",status_code="200"')).toBe(1)
  })

  it('rejects a misspelt per-route option when the route is added', async () => {
    app = await buildApp()
    expect(() =>
      app!.get('/x', { config: { goreliable: { metric: false } as never } }, async () => 'x'),
    ).toThrow(/GET \/x: config\.goreliable\.metric/)
  })

  it('registers no hook for metrics when metrics is false and request logging is off', async () => {
    app = await buildApp({ metrics: false })
    app.get('/x', async () => 'x')
    await app.ready()
    const hooks = app.printRoutes({ includeHooks: true })
    for (const hook of ['onRequest', 'onResponse', 'onError']) expect(hooks).not.toContain(hook)
    await app.inject('/x')
    const text = await metricsText(app)
    expect(text).not.toContain('http_request_duration_seconds')
    expect(text).not.toContain('http_requests_in_flight')
    // Runtime metrics are still there.
    expect(text).toContain('nodejs_eventloop_utilization_ratio')
    expect(text).toContain('goreliable_build_info{package="@goreliable/fastify"')
  })

  it('counts requests in flight over real sockets, including requests whose client went away', async () => {
    app = await buildApp()
    const pending: Array<() => void> = []
    app.get('/slow', () => new Promise<string>((resolve) => pending.push(() => resolve('done'))))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    const inFlight = async () =>
      Number(samples(await metricsText(app!), 'http_requests_in_flight')[0]?.split(' ')[1])

    const answered = [fetch(`http://127.0.0.1:${port}/slow`), fetch(`http://127.0.0.1:${port}/slow`)]
    // A client that disconnects before its answer: Fastify runs no onResponse hook for it.
    const aborted = request({ host: '127.0.0.1', port, path: '/slow' })
    aborted.on('error', () => {})
    aborted.end()
    await waitFor(async () => (await inFlight()) === 3)
    aborted.destroy()
    await waitFor(async () => (await inFlight()) === 2)
    for (const release of pending.splice(0)) release()
    for (const res of await Promise.all(answered)) expect(await res.text()).toBe('done')
    await waitFor(async () => (await inFlight()) === 0)
    expect(pending).toEqual([])
  })

  it('passes promtool check metrics for every metric this project defines', async () => {
    const promtool = ['/usr/bin/promtool', 'promtool'].find((p) => p === 'promtool' || existsSync(p))!
    app = await buildApp({ shedding: { maxEventLoopDelayMs: 1000 } })
    app.get('/x', async () => 'x')
    await app.ready()
    await app.inject('/x')
    await app.inject('/missing')
    await app.goreliable.breaker('upstream', async () => 1).fire()
    app.goreliable.health.addCheck({ name: 'db', kind: 'readiness', check: () => true })
    await fetch(`${adminUrl(app)}/readyz`)
    const text = await metricsText(app)
    const ours = [
      'http_request_duration_seconds',
      'http_requests_in_flight',
      'http_requests_shed_total',
      'health_check_status',
      'goreliable_build_info',
      'nodejs_eventloop_utilization_ratio',
      'circuit_breaker_',
    ]
    for (const name of ours) expect(text).toContain(name)

    const result = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' })
    if (result.error)
      throw new Error(`promtool is needed (Debian package "prometheus"): ${result.error.message}`)
    const problems = `${result.stdout}\n${result.stderr}`.split('\n').filter((l) => l.trim() !== '')
    // prom-client's own default metrics have known complaints (gauges such as nodejs_active_handles_total end
    // in _total); only problems with a metric this project defines count.
    const ourProblems = problems.filter((l) => ours.some((name) => l.startsWith(name)))
    expect(ourProblems).toEqual([])
    // The filter must not hide a crash of promtool itself: its exit code is 0 (clean) or 3 (lint problems).
    expect([0, 3]).toContain(result.status)
  })
})

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(20)
  }
}
