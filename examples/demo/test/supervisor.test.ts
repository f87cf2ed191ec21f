import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createSupervisor,
  DemoErrorCodes,
  type ExitEvent,
  ephemeralPort,
  type Supervisor,
} from '../src/index.js'
import { alive, capture, eventually, statusOf } from './helpers.js'

const dummy = fileURLToPath(new URL('./fixtures/dummy-child.mjs', import.meta.url))

let supervisor: Supervisor | undefined
afterEach(async () => {
  await supervisor?.stopAll()
  supervisor = undefined
})

async function dummySpec(name: string, env: Record<string, string> = {}, readyTimeoutMs = 10_000) {
  const port = await ephemeralPort()
  return {
    spec: {
      name,
      entry: dummy,
      env: { DUMMY_NAME: name, DUMMY_PORT: String(port), ...env },
      readyUrl: `http://127.0.0.1:${port}/ready`,
      readyTimeoutMs,
    },
    url: `http://127.0.0.1:${port}/ready`,
  }
}

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise
  } catch (error) {
    return error as { code?: string; message: string }
  }
  throw new Error('expected a rejection')
}

describe('createSupervisor', () => {
  it('resolves start only once the service answers its readiness URL, and prefixes its output', async () => {
    const out = capture()
    const err = capture()
    supervisor = createSupervisor({ stdout: out.stream, stderr: err.stream, color: false, prefixWidth: 0 })
    const { spec, url } = await dummySpec('svc-a', { DUMMY_READY_AFTER_MS: '600' })
    const handle = await supervisor.start(spec)
    expect(await statusOf(url)).toBe(200)
    expect(handle.running).toBe(true)
    await eventually(() => out.lines().includes('svc-a | dummy svc-a starting'))
    await eventually(() => err.lines().includes('svc-a | dummy svc-a says hello on stderr'))
    expect(handle.recentOutput()).toContain('dummy svc-a starting')
  })

  it('stops every service with SIGTERM, the last started first', async () => {
    const out = capture()
    supervisor = createSupervisor({
      stdout: out.stream,
      stderr: capture().stream,
      color: false,
      prefixWidth: 0,
    })
    const started = []
    for (const name of ['first', 'second', 'third']) {
      const { spec, url } = await dummySpec(name)
      started.push({ handle: await supervisor.start(spec), url })
    }
    const results = await supervisor.stopAll()
    expect(results.map((r) => r.name)).toEqual(['third', 'second', 'first'])
    for (const r of results) expect(r).toMatchObject({ code: 0, signal: null, forced: false })
    for (const { handle, url } of started) {
      expect(handle.running).toBe(false)
      expect(alive(handle.pid)).toBe(false)
      expect(await statusOf(url)).toBe(0)
    }
    const order = out.lines().filter((l) => l.includes('got SIGTERM'))
    expect(order).toEqual([
      'third | dummy third got SIGTERM',
      'second | dummy second got SIGTERM',
      'first | dummy first got SIGTERM',
    ])
    // A second call returns the same outcome without signalling again.
    expect(await supervisor.stopAll()).toBe(await supervisor.stopAll())
  })

  it('kills a service that ignores SIGTERM once the stop timeout passes', async () => {
    supervisor = createSupervisor({ stdout: capture().stream, stderr: capture().stream, stopTimeoutMs: 500 })
    const { spec } = await dummySpec('stubborn', { DUMMY_IGNORE_SIGTERM: '1' })
    const handle = await supervisor.start(spec)
    const [result] = await supervisor.stopAll()
    expect(result).toMatchObject({ name: 'stubborn', forced: true, signal: 'SIGKILL' })
    expect(result?.recentOutput).toContain('dummy stubborn got SIGTERM')
    expect(alive(handle.pid)).toBe(false)
  })

  it('rejects with the last output when a service exits before it is ready', async () => {
    supervisor = createSupervisor({ stdout: capture().stream, stderr: capture().stream })
    const { spec } = await dummySpec('quitter', { DUMMY_EXIT_CODE: '7' })
    const error = await rejection(supervisor.start(spec))
    expect(error.code).toBe(DemoErrorCodes.SERVICE_EXITED)
    expect(error.message).toContain('quitter exited (code 7)')
    expect(error.message).toContain('dummy giving up')
  })

  it('rejects naming the URL when a service is not ready in time', async () => {
    supervisor = createSupervisor({ stdout: capture().stream, stderr: capture().stream })
    const { spec, url } = await dummySpec('slow', { DUMMY_READY_AFTER_MS: '60000' }, 800)
    const error = await rejection(supervisor.start(spec))
    expect(error.code).toBe(DemoErrorCodes.SERVICE_NOT_READY)
    expect(error.message).toContain(url)
    expect(error.message).toContain('503')
    const [result] = await supervisor.stopAll()
    expect(result).toMatchObject({ name: 'slow', code: 0 })
  })

  it('refuses an entry that does not exist, saying to build', async () => {
    supervisor = createSupervisor({ stdout: capture().stream, stderr: capture().stream })
    const error = await rejection(supervisor.start({ name: 'ghost', entry: '/nonexistent/dist/main.js' }))
    expect(error.code).toBe(DemoErrorCodes.SERVICE_ENTRY_MISSING)
    expect(error.message).toMatch(/npm run build/)
    expect(supervisor.services()).toHaveLength(0)
  })

  it('reports a service that crashes after it was ready', async () => {
    const crashes: ExitEvent[] = []
    supervisor = createSupervisor({
      stdout: capture().stream,
      stderr: capture().stream,
      onUnexpectedExit: (event) => crashes.push(event),
    })
    const { spec } = await dummySpec('crasher', { DUMMY_CRASH_AFTER_MS: '2000' })
    await supervisor.start(spec)
    await eventually(() => crashes.length === 1)
    expect(crashes[0]).toMatchObject({ name: 'crasher', code: 3 })
    expect(crashes[0]?.recentOutput).toContain('dummy crashing')
  })

  it('does not report services it stopped itself', async () => {
    const crashes: ExitEvent[] = []
    supervisor = createSupervisor({
      stdout: capture().stream,
      stderr: capture().stream,
      onUnexpectedExit: (event) => crashes.push(event),
    })
    await supervisor.start((await dummySpec('calm')).spec)
    await supervisor.stopAll()
    expect(crashes).toEqual([])
  })

  it('rejects unknown and bad options', () => {
    expect(() => createSupervisor({ timeoutMs: 5 } as never)).toThrow(/timeoutMs/)
    expect(() => createSupervisor({ stopTimeoutMs: -1 })).toThrow(/stopTimeoutMs/)
  })
})
