import { type ChildProcess, spawn } from 'node:child_process'
import { statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { afterEach, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { ErrorCodes, InvalidOptionError } from '../src/errors.js'
import { createHealth } from '../src/health.js'
import {
  type CloserEvent,
  createShutdown,
  createShutdownOptionKeys,
  type ShutdownOptions,
  type ShutdownResult,
} from '../src/shutdown.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A coordinator that listens to no signal and records exit codes instead of exiting the test runner. */
function testShutdown(options: ShutdownOptions = {}) {
  const exits: number[] = []
  const shutdown = createShutdown({ signals: [], exit: (code) => exits.push(code), ...options })
  return { shutdown, exits }
}

describe('createShutdown', () => {
  it('runs closers in reverse order of registration, then exits 0', async () => {
    const { shutdown, exits } = testShutdown()
    const order: string[] = []
    for (const name of ['pg', 'nats', 'http']) {
      shutdown.addCloser(name, async () => {
        await sleep(5)
        order.push(name)
      })
    }
    const result = await shutdown.shutdown('deploy')
    expect(order).toEqual(['http', 'nats', 'pg'])
    expect(exits).toEqual([0])
    expect(result).toMatchObject({ reason: 'deploy', exitCode: 0, failed: [], abandoned: [] })
  })

  it('fails readiness at once, keeps liveness, and starts closers only after drainDelayMs', async () => {
    const health = createHealth({ cacheMs: 0 })
    health.addCheck({ name: 'db', kind: 'readiness', check: () => true })
    health.addCheck({ name: 'loop', kind: 'liveness', check: () => true })
    const { shutdown } = testShutdown({ health, drainDelayMs: 200 })
    let closerStartedAfterMs = -1
    const started = performance.now()
    shutdown.addCloser('pg', () => {
      closerStartedAfterMs = performance.now() - started
    })

    const done = shutdown.shutdown()
    expect(shutdown.isShuttingDown).toBe(true)
    expect(health.isShuttingDown).toBe(true)
    const readiness = await health.report('readiness')
    expect(readiness.status).toBe('fail')
    expect(readiness.checks[0]?.name).toBe('shutdown')
    expect((await health.report('liveness')).status).toBe('ok')

    expect(closerStartedAfterMs).toBe(-1)
    await done
    // Timers may fire a millisecond early; the bound only proves the closer waited for the drain.
    expect(closerStartedAfterMs).toBeGreaterThanOrEqual(190)
  })

  it('abandons closers still pending when timeoutMs passes and exits 1', async () => {
    const { shutdown, exits } = testShutdown({ timeoutMs: 100 })
    const ran: string[] = []
    const events: CloserEvent[] = []
    shutdown.on('shutdown:closer', (event) => events.push(event))
    shutdown.addCloser('pg', () => ran.push('pg'))
    shutdown.addCloser('nats', () => new Promise(() => ran.push('nats')))
    shutdown.addCloser('http', () => ran.push('http'))

    const started = performance.now()
    const result = await shutdown.shutdown()
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(ran).toEqual(['http', 'nats'])
    expect(result).toMatchObject({ exitCode: 1, failed: [], abandoned: ['nats', 'pg'] })
    expect(exits).toEqual([1])
    expect(events.map((e) => [e.name, e.status])).toEqual([
      ['http', 'ok'],
      ['nats', 'timeout'],
    ])
    expect(events[1]?.error).toMatchObject({ code: ErrorCodes.SHUTDOWN_TIMEOUT })
  })

  it('logs a closer that throws or rejects and still runs the rest, then exits 1', async () => {
    const lines: Record<string, unknown>[] = []
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) })
    const { shutdown, exits } = testShutdown({ logger })
    const ran: string[] = []
    shutdown.addCloser('pg', () => ran.push('pg'))
    shutdown.addCloser('nats', async () => {
      ran.push('nats')
      throw new Error('drain failed')
    })
    shutdown.addCloser('http', () => {
      ran.push('http')
      throw new Error('already closed')
    })

    const result = await shutdown.shutdown()
    expect(ran).toEqual(['http', 'nats', 'pg'])
    expect(result).toMatchObject({ exitCode: 1, failed: ['http', 'nats'], abandoned: [] })
    expect(exits).toEqual([1])
    const failures = lines.filter((l) => l.msg === 'closer failed')
    expect(failures.map((l) => [l.closer, (l.err as { message: string }).message])).toEqual([
      ['http', 'already closed'],
      ['nats', 'drain failed'],
    ])
    expect(lines.map((l) => l.msg)).toEqual([
      'shutdown started',
      'closer failed',
      'closer failed',
      'closer done',
      'shutdown finished',
    ])
  })

  it('runs once: a second call returns the same promise', async () => {
    const { shutdown, exits } = testShutdown()
    let calls = 0
    shutdown.addCloser('pg', () => calls++)
    const first = shutdown.shutdown('one')
    const second = shutdown.shutdown('two')
    expect(second).toBe(first)
    expect((await second).reason).toBe('one')
    await shutdown.shutdown('three')
    expect(calls).toBe(1)
    expect(exits).toEqual([0])
  })

  it('emits start, one event per closer and end, in order; a throwing listener changes nothing', async () => {
    const { shutdown, exits } = testShutdown()
    const seen: string[] = []
    shutdown
      .on('shutdown:start', ({ reason, signal }) => seen.push(`start:${reason}:${signal}`))
      .on('shutdown:start', () => {
        throw new Error('bad listener')
      })
      .on('shutdown:closer', ({ name, status }) => seen.push(`closer:${name}:${status}`))
      .once('shutdown:end', ({ exitCode }: ShutdownResult) => seen.push(`end:${exitCode}`))
    shutdown.addCloser('a', () => {})
    shutdown.addCloser('b', () => {})
    await shutdown.shutdown('test')
    expect(seen).toEqual(['start:test:undefined', 'closer:b:ok', 'closer:a:ok', 'end:0'])
    expect(exits).toEqual([0])
  })

  it('a start listener that calls shutdown() again joins the running shutdown', async () => {
    const { shutdown, exits } = testShutdown()
    let calls = 0
    let joined: Promise<ShutdownResult> | undefined
    shutdown.addCloser('pg', () => calls++)
    shutdown.on('shutdown:start', () => {
      expect(shutdown.isShuttingDown).toBe(true)
      joined = shutdown.shutdown('from listener')
    })
    const first = shutdown.shutdown('first')
    expect(joined).toBe(first)
    expect((await first).reason).toBe('first')
    expect(calls).toBe(1)
    expect(exits).toEqual([0])
  })

  it('a removed closer does not run', async () => {
    const { shutdown } = testShutdown()
    const ran: string[] = []
    shutdown.addCloser('a', () => ran.push('a'))
    const remove = shutdown.addCloser('b', () => ran.push('b'))
    remove()
    await shutdown.shutdown()
    expect(ran).toEqual(['a'])
  })

  it('listens to its signals until close()', () => {
    const before = process.listenerCount('SIGUSR2')
    const shutdown = createShutdown({ signals: ['SIGUSR2'], exit: () => {} })
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1)
    shutdown.close()
    expect(process.listenerCount('SIGUSR2')).toBe(before)
  })

  describe('bad input', () => {
    const cases: [string, unknown][] = [
      ['signals', { signals: 'SIGTERM' }],
      ['signals', { signals: ['SIGTERN'] }],
      ['signals', { signals: ['SIGKILL'] }],
      ['signals', { signals: ['toString'] }],
      ['drainDelayMs', { drainDelayMs: -1 }],
      ['timeoutMs', { timeoutMs: 0 }],
      ['timeoutMs', { timeoutMs: Number.POSITIVE_INFINITY }],
      ['health', { health: {} }],
      ['logger', { logger: console.log }],
      ['exit', { exit: 1 }],
      ['timeout', { timeout: 1000 }],
    ]
    it.each(cases)('rejects a bad %s', (option, options) => {
      const attempt = () => createShutdown(options as ShutdownOptions)
      expect(attempt).toThrow(InvalidOptionError)
      expect(attempt).toThrow(`"${option}"`)
    })

    it('addCloser rejects a missing name, a non-function and a duplicate name', () => {
      const { shutdown } = testShutdown()
      shutdown.addCloser('pg', () => {})
      expect(() => shutdown.addCloser('', () => {})).toThrow(/"name"/)
      expect(() => shutdown.addCloser('x', 'close' as never)).toThrow(/"fn"/)
      expect(() => shutdown.addCloser('pg', () => {})).toThrow(/"name"/)
    })
  })

  it('has typed options and events', () => {
    expectTypeOf(createShutdownOptionKeys).items.toEqualTypeOf<
      'signals' | 'drainDelayMs' | 'timeoutMs' | 'health' | 'logger' | 'exit'
    >()
    const typed = () => {
      const shutdown = createShutdown({ logger: pino(), exit: () => {} })
      // @ts-expect-error not a signal name
      createShutdown({ signals: ['SIGTERN'] })
      // @ts-expect-error no such event
      shutdown.on('shutdown:done', () => {})
      shutdown.on('shutdown:end', (result) => expectTypeOf(result.exitCode).toEqualTypeOf<0 | 1>())
    }
    expectTypeOf(typed).toBeFunction()
  })
})

const fixture = fileURLToPath(new URL('./fixtures/shutdown-child.mjs', import.meta.url))
type Line = Record<string, unknown> & { event: string }

const children: ChildProcess[] = []

/** Spawns the fixture service and gives its JSON lines, a way to wait for one, and its exit code. */
function startChild(config: Record<string, unknown>) {
  const child: ChildProcess = spawn(process.execPath, [fixture, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  const lines: Line[] = []
  const waiters: { match: (l: Line) => boolean; resolve: (l: Line) => void }[] = []
  let buffer = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk
    for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
      const line = JSON.parse(buffer.slice(0, nl)) as Line
      buffer = buffer.slice(nl + 1)
      lines.push(line)
      for (const w of waiters.filter((w) => w.match(line))) w.resolve(line)
    }
  })
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  const waitFor = (event: string) =>
    new Promise<Line>((resolve) => {
      const found = lines.find((l) => l.event === event)
      if (found) resolve(found)
      else waiters.push({ match: (l) => l.event === event, resolve })
    })
  return { child, lines, waitFor, exited }
}

describe('real signals (child process)', () => {
  // A failed assertion must not leave a child waiting out a 60 s drain.
  afterEach(() => {
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })

  beforeAll(() => {
    // The child runs the built code; a stale build would test yesterday's behaviour. tsc -b leaves a .js
    // file untouched when its output is unchanged, so the build info's time counts as "built" too.
    const mtime = (path: string) => {
      try {
        return statSync(fileURLToPath(new URL(path, import.meta.url))).mtimeMs
      } catch {
        return 0
      }
    }
    for (const file of ['shutdown', 'health']) {
      const built = Math.max(
        mtime(`../dist/${file}.js`) && mtime('../dist/.tsbuildinfo'),
        mtime(`../dist/${file}.js`),
      )
      if (built < mtime(`../src/${file}.ts`)) {
        throw new Error(`dist/${file}.js is missing or older than src; run: cd packages/core && npx tsc -b`)
      }
    }
  })

  it('on SIGTERM: not ready at once, serves /livez during the drain, closes in reverse order, exits 0', async () => {
    const { child, lines, waitFor, exited } = startChild({ drainDelayMs: 1500 })
    const { port } = (await waitFor('listening')) as Line & { port: number }
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200)

    child.kill('SIGTERM')
    const start = await waitFor('start')
    expect(start).toMatchObject({ reason: 'SIGTERM', ready: false, live: true })
    // Still inside the drain: the server answers, saying not ready but alive.
    const readyz = await fetch(`http://127.0.0.1:${port}/readyz`)
    expect(readyz.status).toBe(503)
    expect(((await readyz.json()) as { checks: { name: string }[] }).checks[0]?.name).toBe('shutdown')
    expect((await fetch(`http://127.0.0.1:${port}/livez`, { headers: { connection: 'close' } })).status).toBe(
      200,
    )

    expect(await exited).toEqual({ code: 0, signal: null })
    const closers = lines.filter((l) => l.event === 'closer')
    expect(closers.map((l) => l.name)).toEqual(['http', 'nats', 'pg'])
    expect(closers[0]?.sinceStartMs).toBeGreaterThanOrEqual(1490)
    expect(lines.at(-1)).toMatchObject({ event: 'end', exitCode: 0, failed: [], abandoned: [] })
  })

  it('on SIGINT: the same shutdown, exit 0', async () => {
    const { child, lines, waitFor, exited } = startChild({})
    await waitFor('listening')
    child.kill('SIGINT')
    expect(await exited).toEqual({ code: 0, signal: null })
    expect(lines.find((l) => l.event === 'start')).toMatchObject({
      reason: 'SIGINT',
      ready: false,
      live: true,
    })
    expect(lines.filter((l) => l.event === 'closer').map((l) => l.name)).toEqual(['http', 'nats', 'pg'])
  })

  it('a second SIGTERM during a long drain forces exit 1 at once', async () => {
    const { child, lines, waitFor, exited } = startChild({ drainDelayMs: 60_000 })
    await waitFor('listening')
    child.kill('SIGTERM')
    await waitFor('start')
    const sent = performance.now()
    child.kill('SIGTERM')
    expect(await exited).toEqual({ code: 1, signal: null })
    expect(performance.now() - sent).toBeLessThan(5_000)
    expect(lines.filter((l) => l.event === 'closer')).toEqual([])
  })
})
