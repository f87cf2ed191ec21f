import { createServer } from 'node:net'
import { gunzipSync } from 'node:zlib'
import Fastify, { type FastifyInstance } from 'fastify'
import { Profile } from 'pprof-format'
import { Gauge } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { FastifyErrorCodes } from '../src/errors.js'
import { adminUrl, buildApp, closedPort, sleep } from './helpers.js'

const apps: FastifyInstance[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
})
async function ready(options: Parameters<typeof buildApp>[0] = {}): Promise<FastifyInstance> {
  const app = await buildApp(options)
  apps.push(app)
  await app.ready()
  return app
}

const ipv6Loopback = await new Promise<boolean>((resolve) => {
  const server = createServer()
  server.once('error', () => resolve(false))
  server.listen(0, '::1', () => server.close(() => resolve(true)))
})

describe('admin server: allow list, over real sockets', () => {
  it('answers 403 and nothing else to an address outside the allow list, and 200 to one inside', async () => {
    const denied = await ready({ admin: { port: 0, host: '127.0.0.1', allow: ['10.0.0.0/8'] } })
    for (const path of ['/metrics', '/debug/pprof/heap', '/debug/pprof/profile?seconds=1']) {
      const res = await fetch(`${adminUrl(denied)}${path}`)
      expect(res.status).toBe(403)
      const body = await res.json()
      expect(body).toEqual({
        statusCode: 403,
        code: FastifyErrorCodes.ADDRESS_NOT_ALLOWED,
        error: 'Forbidden',
        message: expect.stringContaining('127.0.0.1'),
      })
      expect(JSON.stringify(body)).not.toContain('nodejs_')
    }

    const allowed = await ready({ admin: { port: 0, host: '127.0.0.1', allow: ['127.0.0.0/8'] } })
    const res = await fetch(`${adminUrl(allowed)}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/plain')
    expect(await res.text()).toContain('process_cpu_user_seconds_total')
  })

  it('serves the probes to every address', async () => {
    const app = await ready({ admin: { port: 0, host: '127.0.0.1', allow: [] } })
    for (const path of ['/livez', '/readyz', '/startupz']) {
      const res = await fetch(`${adminUrl(app)}${path}`)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ status: 'ok', checks: [] })
    }
  })

  it.skipIf(!ipv6Loopback)(
    'matches an IPv4-mapped IPv6 client in its IPv4 form (dual-stack socket)',
    async () => {
      const app = await ready({ admin: { port: 0, host: '::', allow: ['127.0.0.1/32'] } })
      // Through a socket bound to ::, an IPv4 client's address is ::ffff:127.0.0.1.
      expect((await fetch(`${adminUrl(app, '127.0.0.1')}/metrics`)).status).toBe(200)
      // ::1 is not in the list.
      const v6 = await fetch(`${adminUrl(app, '::1')}/metrics`)
      expect(v6.status).toBe(403)
      expect(((await v6.json()) as { message: string }).message).toContain('::1')
    },
  )
})

describe('admin server: probes', () => {
  it('names each check; /readyz is 503 while a readiness check fails, /livez and /startupz unaffected', async () => {
    const app = await ready()
    let dbUp = false
    app.goreliable.health.addCheck({ name: 'db', kind: 'readiness', check: () => dbUp, cacheMs: 0 })
    app.goreliable.health.addCheck({ name: 'loop', kind: 'liveness', check: () => true })
    app.goreliable.health.addCheck({ name: 'migrations', kind: 'startup', check: () => true })

    const readyz = await fetch(`${adminUrl(app)}/readyz`)
    expect(readyz.status).toBe(503)
    expect(readyz.headers.get('cache-control')).toBe('no-store')
    expect(await readyz.json()).toMatchObject({
      status: 'fail',
      checks: [{ name: 'db', status: 'fail', error: 'check returned false' }],
    })
    const livez = await fetch(`${adminUrl(app)}/livez`)
    expect(livez.status).toBe(200)
    expect(await livez.json()).toMatchObject({ status: 'ok', checks: [{ name: 'loop', status: 'ok' }] })
    expect((await fetch(`${adminUrl(app)}/startupz`)).status).toBe(200)

    dbUp = true
    const again = await fetch(`${adminUrl(app)}/readyz`)
    expect(again.status).toBe(200)
    expect(await again.json()).toMatchObject({ status: 'ok', checks: [{ name: 'db', status: 'ok' }] })
  })
})

describe('admin server: pprof', () => {
  it('serves a CPU profile that decodes as pprof, and a heap profile', async () => {
    const app = await ready()
    const res = await fetch(`${adminUrl(app)}/debug/pprof/profile?seconds=1`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/octet-stream')
    expect(res.headers.get('content-disposition')).toContain('profile.pb.gz')
    const profile = Profile.decode(gunzipSync(Buffer.from(await res.arrayBuffer())))
    expect(profile.sampleType.length).toBeGreaterThan(0)
    expect(profile.durationNanos).toBeGreaterThan(0)

    const heap = await fetch(`${adminUrl(app)}/debug/pprof/heap`)
    expect(heap.status).toBe(200)
    const decoded = Profile.decode(gunzipSync(Buffer.from(await heap.arrayBuffer())))
    expect(decoded.sampleType.length).toBeGreaterThan(0)
  })

  it('answers 409 to a second CPU profile while one is being captured', async () => {
    const app = await ready()
    const first = fetch(`${adminUrl(app)}/debug/pprof/profile?seconds=2`)
    await sleep(300)
    const second = await fetch(`${adminUrl(app)}/debug/pprof/profile?seconds=1`)
    expect(second.status).toBe(409)
    expect(await second.json()).toMatchObject({ statusCode: 409, code: 'GR_ERR_PROFILER_BUSY' })
    expect((await first).status).toBe(200)
  })

  it.each([
    ['0', 'received 0'],
    ['61', 'received 61'],
    ['abc', 'received "abc"'],
    ['1.5', 'received "1.5"'],
    ['', 'received ""'],
    ['-1', 'received "-1"'],
    ['1&seconds=2', 'more than once'],
  ])('answers 400 with a message to seconds=%s', async (value, detail) => {
    const app = await ready()
    const res = await fetch(`${adminUrl(app)}/debug/pprof/profile?seconds=${value}`)
    expect(res.status).toBe(400)
    const body = (await res.json()) as { message: string }
    expect(body).toMatchObject({
      statusCode: 400,
      code: FastifyErrorCodes.INVALID_QUERY,
      error: 'Bad Request',
    })
    expect(body.message).toContain('seconds must be a whole number from 1 to 60')
    expect(body.message).toContain(detail)
  })
})

describe('admin server: lifecycle and failures', () => {
  it('starts on ready on a free port with port 0, and closes with the app', async () => {
    const app = await buildApp()
    expect(app.goreliable.adminAddress()).toBeNull()
    await app.ready()
    const address = app.goreliable.adminAddress()
    expect(address?.port).toBeGreaterThan(0)
    const url = adminUrl(app)
    expect((await fetch(`${url}/livez`)).status).toBe(200)
    await app.close()
    expect(app.goreliable.adminAddress()).toBeNull()
    await expect(fetch(`${url}/livez`)).rejects.toThrow()
  })

  it('runs no admin server with admin: false', async () => {
    const app = await ready({ admin: false })
    expect(app.goreliable.adminAddress()).toBeNull()
  })

  it('fails app.listen() with GR_ERR_ADMIN_PORT_CONFLICT when the main server would take the admin port', async () => {
    const port = await closedPort()
    const app = await buildApp({ admin: { port, host: '127.0.0.1' } })
    apps.push(app)
    await expect(app.listen({ port, host: '127.0.0.1' })).rejects.toMatchObject({
      code: FastifyErrorCodes.ADMIN_PORT_CONFLICT,
      port,
    })
    // The admin server is up and the main server never bound.
    expect((await fetch(`http://127.0.0.1:${port}/livez`)).status).toBe(200)
    expect(app.server.listening).toBe(false)
  })

  it.skipIf(!ipv6Loopback)(
    'refuses the admin port even on another address family, where binding would succeed',
    async () => {
      const port = await closedPort()
      const app = await buildApp({ admin: { port, host: '127.0.0.1' } })
      apps.push(app)
      await expect(app.listen({ port, host: '::1' })).rejects.toMatchObject({
        code: FastifyErrorCodes.ADMIN_PORT_CONFLICT,
      })
    },
  )

  it('fails app.ready() when the admin port is taken', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const { port } = blocker.address() as { port: number }
    try {
      const app = await buildApp({ admin: { port, host: '127.0.0.1' } })
      await expect(app.ready()).rejects.toMatchObject({ code: 'EADDRINUSE' })
      await app.close()
    } finally {
      await new Promise((resolve) => blocker.close(resolve))
    }
  })

  it('answers a failing metric collect with a 500 JSON body, and keeps serving', async () => {
    const app = await ready()
    const name = 'broken_gauge'
    new Gauge({
      name,
      help: 'throws at scrape time',
      registers: [app.goreliable.registry],
      collect() {
        throw new Error('collector exploded')
      },
    })
    const res = await fetch(`${adminUrl(app)}/metrics`)
    expect(res.status).toBe(500)
    expect(await res.json()).toMatchObject({ statusCode: 500, code: FastifyErrorCodes.ADMIN_FAILED })
    app.goreliable.registry.removeSingleMetric(name)
    expect((await fetch(`${adminUrl(app)}/metrics`)).status).toBe(200)
  })

  it('survives a client that disconnects during a profile, and unknown paths', async () => {
    const app = await ready()
    const controller = new AbortController()
    const pending = fetch(`${adminUrl(app)}/debug/pprof/profile?seconds=1`, { signal: controller.signal })
    await sleep(100)
    controller.abort()
    await expect(pending).rejects.toThrow()
    expect((await fetch(`${adminUrl(app)}/nope`)).status).toBe(404)
    expect((await fetch(`${adminUrl(app)}/metrics`, { method: 'POST' })).status).toBe(404)
    // The aborted capture ends on its own; the next one may start once it has.
    await sleep(1200)
    expect((await fetch(`${adminUrl(app)}/debug/pprof/profile?seconds=1`)).status).toBe(200)
  })

  it('does not apply the main app’s hooks to admin routes', async () => {
    const app = Fastify()
    apps.push(app)
    await app.register((await import('../src/index.js')).goreliable, {
      admin: { port: 0, host: '127.0.0.1' },
      shutdown: false,
    })
    app.addHook('onRequest', async (_req, reply) => reply.code(401).send({ error: 'auth' }))
    await app.ready()
    expect((await app.inject('/anything')).statusCode).toBe(401)
    expect((await fetch(`${adminUrl(app)}/livez`)).status).toBe(200)
  })
})
