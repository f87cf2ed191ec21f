import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { FastifyErrorCodes } from '../src/errors.js'
import { adminUrl, buildApp, samples, sleep } from './helpers.js'

let app: FastifyInstance | undefined
let burner: NodeJS.Timeout | undefined
afterEach(async () => {
  clearInterval(burner)
  burner = undefined
  await app?.close()
  app = undefined
})

/** Keeps the event loop busy `busyMs` out of every `everyMs`: high utilization and long delays. */
function burn(busyMs: number, everyMs: number): void {
  burner = setInterval(() => {
    const end = performance.now() + busyMs
    while (performance.now() < end) {}
  }, everyMs)
}

function stopBurning(): void {
  clearInterval(burner)
  burner = undefined
}

async function until(status: number, path = '/work', timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await app!.inject(path)
    if (res.statusCode === status) return res
    if (Date.now() > deadline) throw new Error(`no ${status} from ${path} in time (last ${res.statusCode})`)
    await sleep(20)
  }
}

describe('load shedding', () => {
  it('is off by default: no hook, no metric', async () => {
    // metrics: false, so that the only onRequest hook there could be is shedding's.
    app = await buildApp({ metrics: false })
    app.get('/work', async () => 'ok')
    await app.ready()
    expect(app.printRoutes({ includeHooks: true })).not.toContain('onRequest')
    expect(await (await fetch(`${adminUrl(app)}/metrics`)).text()).not.toContain('http_requests_shed_total')
  })

  it('answers 503 with Retry-After while event-loop utilization is over the limit, then recovers', async () => {
    app = await buildApp({
      shedding: { maxEventLoopUtilization: 0.5, sampleIntervalMs: 100, retryAfterSeconds: 3 },
    })
    app.get('/work', async () => 'ok')
    app.get('/exempt', { config: { goreliable: { shedding: false } } }, async () => 'ok')
    await app.ready()
    const before = await (await fetch(`${adminUrl(app)}/metrics`)).text()
    expect(samples(before, 'http_requests_shed_total')).toEqual([
      'http_requests_shed_total{reason="event_loop_delay"} 0',
      'http_requests_shed_total{reason="event_loop_utilization"} 0',
    ])
    // A loaded test machine can push the loop over the limit on its own at first; wait until it is under.
    await until(200)

    burn(80, 100)
    const shed = await until(503)
    expect(shed.headers['retry-after']).toBe('3')
    expect(shed.json()).toEqual({
      statusCode: 503,
      code: FastifyErrorCodes.OVERLOADED,
      error: 'Service Unavailable',
      message: 'The server is overloaded; retry later',
    })
    expect((await app.inject('/exempt')).statusCode).toBe(200)
    // The admin server is never shed.
    expect((await fetch(`${adminUrl(app)}/livez`)).status).toBe(200)
    const during = await (await fetch(`${adminUrl(app)}/metrics`)).text()
    const shedCount = Number(
      samples(during, 'http_requests_shed_total')
        .find((l) => l.includes('event_loop_utilization'))
        ?.split(' ')[1],
    )
    expect(shedCount).toBeGreaterThanOrEqual(1)
    // Shed requests are counted in the HTTP metrics too, as the 503s they were.
    expect(during).toContain('route="/work",status_code="503"')

    stopBurning()
    await until(200)
  })

  it('answers 503 while the event-loop delay is over the limit', async () => {
    app = await buildApp({ admin: false, shedding: { maxEventLoopDelayMs: 20, sampleIntervalMs: 100 } })
    app.get('/work', async () => 'ok')
    await app.ready()
    burn(120, 10)
    const shed = await until(503)
    expect(shed.headers['retry-after']).toBe('1')
    stopBurning()
    await until(200)
  })
})
