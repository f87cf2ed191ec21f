import { createServer, type Server } from 'node:http'
import { gunzipSync } from 'node:zlib'
import type { GoreliableHost } from '@goreliable/core'
import type { FastifyInstance } from 'fastify'
import { Profile } from 'pprof-format'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { adminUrl, buildApp, samples, sleep } from './helpers.js'

const apps: FastifyInstance[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
})
async function ready(options: Parameters<typeof buildApp>[0] = {}) {
  const app = await buildApp(options)
  apps.push(app)
  await app.ready()
  return app
}

describe('app.goreliable', () => {
  it('is a GoreliableHost with the plugin’s registry, health and shutdown', async () => {
    const app = await ready()
    const host: GoreliableHost = app.goreliable
    expect(host.registry).toBeInstanceOf(Registry)
    expect(typeof host.health.addCheck).toBe('function')
    expect(typeof host.shutdown.addCloser).toBe('function')
    // /metrics serves this registry.
    app.goreliable.registry.registerMetric(
      new (await import('prom-client')).Counter({ name: 'orders_created_total', help: 'h', registers: [] }),
    )
    expect(await (await fetch(`${adminUrl(app)}/metrics`)).text()).toContain('orders_created_total 0')
  })

  it('creates a breaker once per name and reuses it, exporting its metrics', async () => {
    const app = await ready()
    let calls = 0
    const first = app.goreliable.breaker('inventory', async (n: number) => {
      calls++
      return n * 2
    })
    const again = app.goreliable.breaker('inventory', async () => 0)
    expect(again).toBe(first)
    expect(await first.fire(21)).toBe(42)
    expect(calls).toBe(1)
    const text = await (await fetch(`${adminUrl(app)}/metrics`)).text()
    expect(samples(text, 'circuit_breaker_state')).toContain(
      'circuit_breaker_state{name="inventory",state="closed"} 1',
    )
    expect(() => app.goreliable.breaker('x', async () => 1, { name: 'y' } as never)).toThrow(/options\.name/)
  })

  it('stops its breakers when the app closes', async () => {
    const app = await buildApp()
    const breaker = app.goreliable.breaker('b', async () => 1)
    await app.ready()
    await app.close()
    expect(breaker.isShutdown).toBe(true)
  })

  it('exports into the registry it is given; two apps may share one', async () => {
    const registry = new Registry()
    const a = await buildApp({ registry })
    const b = await buildApp({ registry })
    apps.push(a, b)
    expect(a.goreliable.registry).toBe(registry)
    a.get('/a', async () => 'a')
    b.get('/b', async () => 'b')
    await a.inject('/a')
    await b.inject('/b')
    const text = await registry.metrics()
    expect(text).toContain('route="/a"')
    expect(text).toContain('route="/b"')
    expect(samples(text, 'http_requests_in_flight')).toEqual(['http_requests_in_flight 0'])
  })

  it('hands out the process profiler', async () => {
    const app = await ready()
    const heap = await app.goreliable.profiler.captureHeapProfile()
    expect(Profile.decode(gunzipSync(heap)).sample.length).toBeGreaterThanOrEqual(0)
  })
})

describe('profiling option', () => {
  let pyroscope: Server | undefined
  afterEach(async () => {
    await new Promise((resolve) => pyroscope?.close(resolve) ?? resolve(undefined))
    pyroscope = undefined
  })

  it('pushes continuous profiles to Pyroscope, and the pprof route still works beside it', async () => {
    const pushes: string[] = []
    pyroscope = createServer((req, res) => {
      pushes.push(req.url ?? '')
      req.resume()
      req.on('end', () => res.writeHead(200).end())
    })
    await new Promise<void>((resolve) => pyroscope!.listen(0, '127.0.0.1', resolve))
    const { port } = pyroscope.address() as { port: number }
    const app = await ready({
      serviceName: 'orders',
      profiling: {
        pyroscope: {
          serverAddress: `http://127.0.0.1:${port}`,
          flushIntervalMs: 1000,
          tags: { env: 'test' },
        },
      },
    })
    expect(app.goreliable.profiler.stats().continuous).toBe(true)
    const res = await fetch(`${adminUrl(app)}/debug/pprof/profile?seconds=1`)
    expect(res.status).toBe(200)
    const deadline = Date.now() + 8000
    while (!pushes.some((u) => u.startsWith('/ingest')) && Date.now() < deadline) await sleep(100)
    const push = pushes.find((u) => u.startsWith('/ingest'))
    expect(push).toBeDefined()
    expect(decodeURIComponent(push!)).toContain('orders')
    expect(app.goreliable.profiler.stats().continuous).toBe(true)
  })
})
