import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { sleep } from './helpers.js'

const fixture = fileURLToPath(new URL('./fixtures/sigterm-server.mjs', import.meta.url))
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url))

interface Event {
  event: string
  at: number
  [key: string]: unknown
}

let child: ChildProcess | undefined
afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  child = undefined
})

describe('SIGTERM under load (a real server in a child process)', () => {
  it('fails readiness during the drain and answers every request in flight, then exits 0', async () => {
    if (!existsSync(dist)) throw new Error('dist/ is missing: run `npx tsc -b` in packages/fastify first')
    const drainDelayMs = 3000
    child = spawn(process.execPath, [fixture], {
      env: { ...process.env, DRAIN_DELAY_MS: String(drainDelayMs) },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const events: Event[] = []
    const waiters: Array<() => void> = []
    createInterface({ input: child.stdout! }).on('line', (line) => {
      events.push(JSON.parse(line) as Event)
      for (const wake of waiters.splice(0)) wake()
    })
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)))
    const waitForEvent = async (name: string): Promise<Event> => {
      for (;;) {
        const found = events.find((e) => e.event === name)
        if (found) return found
        await new Promise<void>((resolve) => waiters.push(resolve))
      }
    }
    const listening = await waitForEvent('listening')
    const main = `http://127.0.0.1:${listening.port}`
    const admin = `http://127.0.0.1:${listening.adminPort}`

    // 50 clients, each sending one 150 ms request after another; 800 ms into the drain each sends one last
    // request that the server holds until 300 ms after app.close() has started, so all 50 are in flight when
    // it does, however slow the machine. No request starts after the close: a load balancer would have
    // stopped sending by then (readiness failed).
    let holdNow = false
    const outcomes: Array<{ status: number | string; held: boolean; startedAt: number; endedAt: number }> = []
    const client = async () => {
      for (;;) {
        const held = holdNow
        const startedAt = Date.now()
        try {
          const res = await fetch(`${main}/work${held ? '?hold=1' : ''}`)
          const body = (await res.json()) as { ok?: boolean }
          const status = body.ok === true ? res.status : `bad body ${res.status}`
          outcomes.push({ status, held, startedAt, endedAt: Date.now() })
        } catch (err) {
          outcomes.push({ status: String((err as Error).cause ?? err), held, startedAt, endedAt: Date.now() })
        }
        if (held) return
      }
    }
    const clients = Array.from({ length: 50 }, client)

    await sleep(700)
    const sigtermAt = Date.now()
    child.kill('SIGTERM')
    setTimeout(() => {
      holdNow = true
    }, 800)

    // During the drain, probed until the close starts: readiness fails, liveness holds. Only answers from
    // the probe routes count: one sent just before the close may meet the closing admin server instead.
    await waitForEvent('shutdown:start')
    const probes: Array<{ path: string; status: number; body: { status?: string; checks?: unknown[] } }> = []
    while (!events.some((e) => e.event === 'close:start')) {
      for (const path of ['/readyz', '/livez']) {
        try {
          const res = await fetch(`${admin}${path}`)
          probes.push({ path, status: res.status, body: (await res.json()) as never })
        } catch {
          // The admin server closed under this probe.
        }
      }
      await sleep(100)
    }

    await Promise.all(clients)
    const code = await exited
    const closeStart = (await waitForEvent('close:start')).at

    const answered = probes.filter((p) => Array.isArray(p.body.checks))
    const readyz = answered.filter((p) => p.path === '/readyz')
    const livez = answered.filter((p) => p.path === '/livez')
    expect(readyz.length).toBeGreaterThanOrEqual(1)
    expect(livez.length).toBeGreaterThanOrEqual(1)
    for (const probe of readyz) {
      expect(probe).toMatchObject({ status: 503, body: { status: 'fail', checks: [{ name: 'shutdown' }] } })
    }
    for (const probe of livez) expect(probe).toMatchObject({ status: 200, body: { status: 'ok' } })

    // Times relative to the start of app.close(), so that a failure says when it happened.
    const failures = outcomes
      .filter((o) => o.status !== 200)
      .map((o) => ({ ...o, startedAt: o.startedAt - closeStart, endedAt: o.endedAt - closeStart }))
    expect(failures).toEqual([])
    const held = outcomes.filter((o) => o.held)
    expect(held).toHaveLength(50)
    // In flight when app.close() began, and answered all the same.
    for (const o of held) {
      expect(o.startedAt).toBeLessThan(closeStart)
      expect(o.endedAt).toBeGreaterThan(closeStart)
    }
    // Requests kept being served between the signal and the close (several hundred on an idle machine).
    expect(outcomes.filter((o) => o.endedAt > sigtermAt && o.endedAt < closeStart).length).toBeGreaterThan(25)

    const pool = await waitForEvent('pool:closed')
    expect(pool.answered).toBe(outcomes.length)
    expect(events.map((e) => e.event)).toEqual([
      'listening',
      'shutdown:start',
      'close:start',
      'close:end',
      'closer',
      'pool:closed',
      'closer',
      'shutdown:end',
    ])
    expect(events.filter((e) => e.event === 'closer').map((e) => [e.name, e.status])).toEqual([
      ['@goreliable/fastify', 'ok'],
      ['pool', 'ok'],
    ])
    expect(code).toBe(0)
    expect(closeStart - sigtermAt).toBeGreaterThanOrEqual(drainDelayMs - 50)
  }, 30_000)
})
