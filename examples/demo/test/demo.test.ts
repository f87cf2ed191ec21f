// The launcher's whole flow with stand-ins for the three services that are not written yet (they read the
// same environment and pass orders gateway -> order-service -> NATS -> worker -> the real email provider).
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { serviceUrl } from '../../../scripts/test-services.js'
import { canConnect, findNatsServer, runDemo } from '../src/index.js'
import { alive, capture, eventually, statusOf } from './helpers.js'

const databaseUrl = await serviceUrl('DATABASE_URL')
const natsUrl = await serviceUrl('NATS_URL')
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const fakes = {
  'order-service': fixture('fake-order-service.mjs'),
  'notification-worker': fixture('fake-notification-worker.mjs'),
  gateway: fixture('fake-gateway.mjs'),
}
const anyPorts = {
  gateway: 0,
  gatewayAdmin: 0,
  orderService: 0,
  orderServiceAdmin: 0,
  notificationWorkerAdmin: 0,
  emailProvider: 0,
}
const mainJs = fileURLToPath(new URL('../dist/main.js', import.meta.url))

beforeEach(() => {
  process.env.FAKE_SUBJECT = `goreliable-demo-test.${randomBytes(4).toString('hex')}`
})
afterEach(() => {
  delete process.env.FAKE_SUBJECT
})

describe.skipIf(!databaseUrl || !natsUrl)('runDemo with stand-in services', () => {
  it('starts the stack, sends the burst, shows orders, notifications and metrics, and stops (--once)', async () => {
    const out = capture()
    const code = await runDemo({
      once: true,
      orders: 5,
      entries: fakes,
      ports: anyPorts,
      postgres: { databaseUrl: databaseUrl! },
      nats: { natsUrl: natsUrl! },
      handleSignals: false,
      stdout: out.stream,
      stderr: out.stream,
      stopTimeoutMs: 5000,
    })
    const text = out.text()
    expect(code, text).toBe(0)
    expect(text).toContain('orders created            5/5')
    expect(text).toContain('idempotent retry          same order id')
    expect(text).toContain('notifications delivered   5/5')
    expect(text).toContain('provider attempts         5 (delivered 5, replayed 0, failed 0)')
    expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*service="order-service"\} 3/)
    expect(text).toMatch(/circuit_breaker_state\{name="gateway"\} 0/)
    expect(text).not.toContain('unrelated_metric')
    expect(text).toMatch(/gateway +\| fake gateway got SIGTERM/)

    // Everything it started is gone.
    const gateway = text.match(/gateway +(http:\/\/127\.0\.0\.1:\d+)/)?.[1]
    const provider = text.match(/email-provider +(http:\/\/127\.0\.0\.1:\d+)/)?.[1]
    expect(await statusOf(`${gateway}/auth/token`)).toBe(0)
    expect(await statusOf(`${provider}/control`)).toBe(0)
  }, 60_000)

  it('reports a service that fails to start, and stops the ones already running', async () => {
    const out = capture()
    const code = await runDemo({
      once: true,
      entries: { ...fakes, gateway: fixture('fake-broken.mjs') },
      ports: anyPorts,
      postgres: { databaseUrl: databaseUrl! },
      nats: { natsUrl: natsUrl! },
      handleSignals: false,
      stdout: out.stream,
      stderr: out.stream,
      stopTimeoutMs: 5000,
    })
    const text = out.text()
    expect(code).toBe(1)
    expect(text).toContain('demo failed: gateway exited (code 1) before it was ready')
    expect(text).toContain('JWT_SECRET is too short')
    expect(text).toMatch(/order-service +\| fake order-service got SIGTERM/)
    expect(text).toMatch(/notification-worker +\| fake notification-worker got SIGTERM/)
  }, 60_000)

  it('stops everything and exits 0 on Ctrl-C (SIGINT)', async () => {
    const child = spawn(process.execPath, [fixture('run-fake-demo.mjs')], {
      env: { ...process.env, DATABASE_URL: databaseUrl!, NATS_URL: natsUrl! },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let text = ''
    child.stdout.on('data', (c: Buffer) => {
      text += c
    })
    child.stderr.on('data', (c: Buffer) => {
      text += c
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      await eventually(() => text.includes('press Ctrl-C to stop'), 40_000)
      const pids = [...text.matchAll(/up pid=(\d+)/g)].map((m) => Number(m[1]))
      expect(pids).toHaveLength(3)
      child.kill('SIGINT')
      expect(await exited, text).toBe(0)
      expect(text).toContain('SIGINT: stopping the services')
      expect(text).toContain('stopped')
      for (const name of ['gateway', 'notification-worker', 'order-service']) {
        expect(text).toMatch(new RegExp(`${name} +\\| fake ${name} got SIGTERM`))
      }
      for (const pid of pids) expect(alive(pid)).toBe(false)
    } finally {
      child.kill('SIGKILL')
    }
  }, 60_000)
})

describe.skipIf(!findNatsServer())('runDemo on a machine with no servers running', () => {
  it('runs on the embedded PGlite and a private nats-server, and stops both', async () => {
    const out = capture()
    const code = await runDemo({
      once: true,
      orders: 3,
      entries: fakes,
      ports: anyPorts,
      postgres: { mode: 'pglite' },
      nats: { mode: 'spawn' },
      handleSignals: false,
      stdout: out.stream,
      stderr: out.stream,
      stopTimeoutMs: 5000,
    })
    const text = out.text()
    expect(code, text).toBe(0)
    expect(text).toMatch(/PostgreSQL +embedded PGlite at 127\.0\.0\.1:\d+/)
    expect(text).toMatch(/NATS +private nats-server at nats:\/\/127\.0\.0\.1:\d+/)
    expect(text).toContain('notifications delivered   3/3')
    const pgPort = Number(text.match(/embedded PGlite at 127\.0\.0\.1:(\d+)/)?.[1])
    const natsPort = Number(text.match(/private nats-server at nats:\/\/127\.0\.0\.1:(\d+)/)?.[1])
    expect(await canConnect('127.0.0.1', pgPort, 500)).toBe(false)
    expect(await canConnect('127.0.0.1', natsPort, 500)).toBe(false)
    // PGlite alone takes 3 to 9 s to start, and four services follow it: generous for a loaded CI machine.
  }, 180_000)
})

describe('runDemo before the services are built', () => {
  it('says which entries are missing and to build, before starting anything', async () => {
    const out = capture()
    const code = await runDemo({
      once: true,
      entries: { gateway: '/nonexistent/gateway/dist/main.js' },
      handleSignals: false,
      stdout: out.stream,
    })
    expect(code).toBe(1)
    expect(out.text()).toContain('not built yet: ')
    expect(out.text()).toContain('gateway (/nonexistent/gateway/dist/main.js)')
    expect(out.text()).toContain('npm run build')
    expect(out.text()).not.toContain('PostgreSQL:')
  })

  it('rejects unknown options naming them', async () => {
    await expect(runDemo({ burst: 3 } as never)).rejects.toMatchObject({ code: 'GR_ERR_INVALID_OPTION' })
  })
})

describe('the command line', () => {
  it('prints usage with --help and refuses bad flags with exit code 2', () => {
    const help = spawnSync(process.execPath, [mainJs, '--help'], { encoding: 'utf8' })
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('--once')
    const bad = spawnSync(process.execPath, [mainJs, '--orders=lots'], { encoding: 'utf8' })
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain('--orders')
    const unknown = spawnSync(process.execPath, [mainJs, '--fast'], { encoding: 'utf8' })
    expect(unknown.status).toBe(2)
  })
})
