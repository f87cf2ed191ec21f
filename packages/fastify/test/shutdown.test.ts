import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { adminUrl, buildApp, sleep } from './helpers.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

describe('graceful shutdown', () => {
  it('fails /readyz at once, keeps /livez 200 and serves requests during the drain, then closes and exits 0', async () => {
    const exits: number[] = []
    // A drain long enough for the checks below even on a busy machine.
    app = await buildApp({ shutdown: { signals: [], drainDelayMs: 2000, exit: (code) => exits.push(code) } })
    app.get('/work', async () => 'ok')
    app.goreliable.health.addCheck({ name: 'db', kind: 'readiness', check: () => true })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const main = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    const admin = adminUrl(app)
    expect((await fetch(`${admin}/readyz`)).status).toBe(200)

    const done = app.goreliable.shutdown.shutdown('test')
    const readyz = await fetch(`${admin}/readyz`)
    expect(readyz.status).toBe(503)
    expect(await readyz.json()).toMatchObject({
      status: 'fail',
      checks: [{ name: 'shutdown', status: 'fail' }],
    })
    const livez = await fetch(`${admin}/livez`)
    expect(livez.status).toBe(200)
    // Still served: a load balancer may not have seen the endpoint removal yet.
    expect((await fetch(`${main}/work`)).status).toBe(200)

    const result = await done
    expect(result).toMatchObject({ exitCode: 0, failed: [], abandoned: [] })
    expect(exits).toEqual([0])
    expect(app.server.listening).toBe(false)
    expect(app.goreliable.adminAddress()).toBeNull()
  })

  it('lets in-flight requests finish in app.close() before the closers of other packages run', async () => {
    const events: string[] = []
    app = await buildApp({ shutdown: { signals: [], drainDelayMs: 50, exit: () => {} } })
    app.get('/slow', async () => {
      await sleep(400)
      events.push('slow request answered')
      return 'slow'
    })
    // Added after the plugin, as @goreliable/pg or nats would add theirs.
    app.goreliable.shutdown.addCloser('pg-pool', () => {
      events.push('pg-pool closed')
    })
    app.addHook('onClose', async () => {
      events.push('app closed')
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    const slow = fetch(`http://127.0.0.1:${port}/slow`)
    await sleep(50)
    await app.goreliable.shutdown.shutdown('test')
    const res = await slow
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('slow')
    expect(events).toEqual(['slow request answered', 'app closed', 'pg-pool closed'])
  })

  it('fails readiness when the app is closed directly, too', async () => {
    app = await buildApp()
    await app.ready()
    const health = app.goreliable.health
    expect((await health.report('readiness')).status).toBe('ok')
    await app.close()
    expect((await health.report('readiness')).status).toBe('fail')
    app = undefined
  })

  it('listens to SIGTERM and SIGINT by default and stops listening when the app closes', async () => {
    const before = { term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') }
    app = await buildApp({ shutdown: { exit: () => {} } })
    await app.ready()
    expect(process.listenerCount('SIGTERM')).toBe(before.term + 1)
    expect(process.listenerCount('SIGINT')).toBe(before.int + 1)
    await app.close()
    app = undefined
    expect(process.listenerCount('SIGTERM')).toBe(before.term)
    expect(process.listenerCount('SIGINT')).toBe(before.int)
  })

  it('listens to no signal with shutdown: false, and still runs closers on shutdown()', async () => {
    const before = process.listenerCount('SIGTERM')
    app = await buildApp({ shutdown: false })
    await app.ready()
    expect(process.listenerCount('SIGTERM')).toBe(before)
    expect(app.goreliable.shutdown.isShuttingDown).toBe(false)
  })
})
