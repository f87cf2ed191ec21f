import { Registry } from 'prom-client'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { ErrorCodes, InvalidOptionError } from '../src/errors.js'
import {
  addCheckOptionKeys,
  type CheckResult,
  createHealth,
  createHealthOptionKeys,
  type HealthCheck,
  type HealthOptions,
} from '../src/health.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('createHealth', () => {
  it('runs a check once for many concurrent reports and reuses the result within cacheMs', async () => {
    const health = createHealth({ cacheMs: 10_000 })
    let calls = 0
    health.addCheck({
      name: 'db',
      kind: 'readiness',
      check: async () => {
        calls++
        await sleep(20)
      },
    })

    const storm = await Promise.all(Array.from({ length: 50 }, () => health.report('readiness')))
    expect(calls).toBe(1)
    for (const report of storm) expect(report.status).toBe('ok')

    const later = await health.report('readiness')
    expect(calls).toBe(1)
    expect(later.checks[0]).toMatchObject({ name: 'db', status: 'ok', cached: true })
  })

  it('runs the check again once cacheMs has passed, and caches failures too', async () => {
    const health = createHealth({ cacheMs: 300 })
    let calls = 0
    health.addCheck({
      name: 'db',
      kind: 'readiness',
      check: () => {
        calls++
        throw new Error('connection refused')
      },
    })
    await health.report('readiness')
    await health.report('readiness')
    expect(calls).toBe(1)
    await sleep(400)
    const report = await health.report('readiness')
    expect(calls).toBe(2)
    expect(report.checks[0]).toMatchObject({ status: 'fail', error: 'connection refused' })
    expect(report.checks[0]?.cached).toBeUndefined()
  })

  it('a per-check cacheMs of 0 reruns every time', async () => {
    const health = createHealth()
    let calls = 0
    health.addCheck({ name: 'fresh', kind: 'liveness', cacheMs: 0, check: () => calls++ })
    await health.report('liveness')
    await health.report('liveness')
    expect(calls).toBe(2)
  })

  it('fails a hanging check with GR_ERR_CHECK_TIMEOUT instead of hanging the probe', async () => {
    const health = createHealth()
    let calls = 0
    let signal: AbortSignal | undefined
    health.addCheck({
      name: 'stuck',
      kind: 'readiness',
      timeoutMs: 50,
      cacheMs: 0,
      check: (s) => {
        calls++
        signal = s
        return new Promise(() => {})
      },
    })
    health.addCheck({ name: 'fine', kind: 'readiness', check: () => true })

    const started = performance.now()
    const report = await health.report('readiness')
    expect(performance.now() - started).toBeLessThan(2_000)
    expect(report.status).toBe('fail')
    const [stuck, fine] = report.checks
    expect(stuck?.status).toBe('fail')
    expect(stuck?.error).toContain(ErrorCodes.CHECK_TIMEOUT)
    expect(stuck?.error).toContain('"stuck" did not finish within 50 ms')
    expect(stuck?.durationMs).toBeGreaterThanOrEqual(45)
    expect(fine?.status).toBe('ok')
    expect(signal?.aborted).toBe(true)

    // The hung call has not settled: the next probe fails at once without piling up another call.
    const again = await health.report('readiness')
    expect(again.checks[0]?.error).toContain(ErrorCodes.CHECK_TIMEOUT)
    expect(calls).toBe(1)
  })

  it('names the failing check and its error message, never a stack', async () => {
    const health = createHealth()
    health.addCheck({ name: 'cache', kind: 'readiness', check: () => 'PONG' })
    health.addCheck({
      name: 'db',
      kind: 'readiness',
      check: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
      },
    })
    health.addCheck({ name: 'broker', kind: 'readiness', check: () => false })
    health.addCheck({
      name: 'coded',
      kind: 'readiness',
      check: () => {
        throw Object.assign(new Error('terminating connection'), { code: '57P01' })
      },
    })
    health.addCheck({
      name: 'odd',
      kind: 'readiness',
      check: () => {
        throw 'a string'
      },
    })

    const report = await health.report('readiness')
    expect(report.status).toBe('fail')
    expect(report.checks.map(({ name, status, error }) => ({ name, status, error }))).toEqual([
      { name: 'cache', status: 'ok', error: undefined },
      { name: 'db', status: 'fail', error: 'connect ECONNREFUSED 127.0.0.1:5432' },
      { name: 'broker', status: 'fail', error: 'check returned false' },
      { name: 'coded', status: 'fail', error: '57P01: terminating connection' },
      { name: 'odd', status: 'fail', error: 'a string' },
    ])
    for (const check of report.checks) expect(check.durationMs).toBeGreaterThanOrEqual(0)
    expect(JSON.stringify(report)).not.toContain('    at ')
  })

  it('fails readiness from the moment of shutdown while liveness stays ok', async () => {
    const health = createHealth({ cacheMs: 0 })
    let readinessCalls = 0
    health.addCheck({ name: 'db', kind: 'readiness', check: () => readinessCalls++ })
    health.addCheck({ name: 'loop', kind: 'liveness', check: () => true })
    expect((await health.report('readiness')).status).toBe('ok')

    health.markShuttingDown()
    expect(health.isShuttingDown).toBe(true)
    const readiness = await health.report('readiness')
    expect(readiness).toEqual({
      status: 'fail',
      checks: [{ name: 'shutdown', status: 'fail', durationMs: 0, error: 'the process is shutting down' }],
    })
    // The pool behind a readiness check is being closed; probing it would only add noise.
    expect(readinessCalls).toBe(1)
    expect(await health.report('liveness')).toMatchObject({
      status: 'ok',
      checks: [{ name: 'loop', status: 'ok' }],
    })
  })

  it('startup is ok once every startup check passed once, and never reruns a passed check', async () => {
    const health = createHealth({ cacheMs: 0 })
    let migrated = false
    let migrationCalls = 0
    let warmCalls = 0
    health.addCheck({
      name: 'migrations',
      kind: 'startup',
      check: () => {
        migrationCalls++
        return migrated
      },
    })
    health.addCheck({ name: 'warm', kind: 'startup', check: () => warmCalls++ })

    const first = await health.report('startup')
    expect(first.status).toBe('fail')
    expect(first.checks.find((c) => c.name === 'migrations')?.error).toBe('check returned false')

    migrated = true
    expect((await health.report('startup')).status).toBe('ok')
    migrated = false // would fail if it were asked again
    const later = await health.report('startup')
    expect(later.status).toBe('ok')
    expect(later.checks.every((c) => c.cached === true)).toBe(true)
    expect(migrationCalls).toBe(2)
    expect(warmCalls).toBe(1)
  })

  it('an empty kind is ok', async () => {
    expect(await createHealth().report('liveness')).toEqual({ status: 'ok', checks: [] })
  })

  it('removes a check with the function addCheck returns', async () => {
    const health = createHealth()
    const remove = health.addCheck({ name: 'db', kind: 'readiness', check: () => false })
    expect((await health.report('readiness')).status).toBe('fail')
    remove()
    expect(await health.report('readiness')).toEqual({ status: 'ok', checks: [] })
    health.addCheck({ name: 'db', kind: 'readiness', check: () => true })
  })

  it('exports health_check_status{check,kind} when given a registry, read from last results', async () => {
    const registry = new Registry()
    const health = createHealth({ registry })
    health.addCheck({ name: 'db', kind: 'readiness', check: () => false })
    health.addCheck({ name: 'loop', kind: 'liveness', check: () => true })
    const before = await registry.metrics()
    expect(before).toContain('health_check_status{check="shutdown",kind="readiness"} 1')
    expect(before).not.toContain('check="db"')

    await health.report('readiness')
    await health.report('liveness')
    health.markShuttingDown()
    const text = await registry.metrics()
    expect(text).toContain('# TYPE health_check_status gauge')
    expect(text).toContain('health_check_status{check="db",kind="readiness"} 0')
    expect(text).toContain('health_check_status{check="loop",kind="liveness"} 1')
    expect(text).toContain('health_check_status{check="shutdown",kind="readiness"} 0')
    // A second Health on the same registry does not throw on registration.
    createHealth({ registry })
  })

  describe('bad input', () => {
    const cases: [string, unknown][] = [
      ['cacheMs', { cacheMs: -1 }],
      ['defaultTimeoutMs', { defaultTimeoutMs: 0 }],
      ['defaultTimeoutMs', { defaultTimeoutMs: 2 ** 31 }],
      ['registry', { registry: {} }],
      ['timeout', { timeout: 5 }],
    ]
    it.each(cases)('createHealth rejects a bad %s', (option, options) => {
      const attempt = () => createHealth(options as HealthOptions)
      expect(attempt).toThrow(InvalidOptionError)
      expect(attempt).toThrow(`"${option}"`)
    })

    const checks: [string, unknown][] = [
      ['name', { kind: 'readiness', check: () => true }],
      ['kind', { name: 'x', kind: 'ready', check: () => true }],
      ['check', { name: 'x', kind: 'readiness', check: 'SELECT 1' }],
      ['timeoutMs', { name: 'x', kind: 'readiness', check: () => true, timeoutMs: -5 }],
      ['cacheMs', { name: 'x', kind: 'readiness', check: () => true, cacheMs: Number.NaN }],
      ['interval', { name: 'x', kind: 'readiness', check: () => true, interval: 5 }],
    ]
    it.each(checks)('addCheck rejects a bad %s', (option, definition) => {
      const attempt = () => createHealth().addCheck(definition as HealthCheck)
      expect(attempt).toThrow(InvalidOptionError)
      expect(attempt).toThrow(`"${option}"`)
    })

    it('rejects a duplicate name for the same kind, allows it for another kind', () => {
      const health = createHealth()
      health.addCheck({ name: 'db', kind: 'readiness', check: () => true })
      health.addCheck({ name: 'db', kind: 'startup', check: () => true })
      expect(() => health.addCheck({ name: 'db', kind: 'readiness', check: () => true })).toThrow(
        /"name".*readiness/,
      )
    })

    it('report() rejects an unknown kind', async () => {
      // @ts-expect-error not a kind
      await expect(createHealth().report('ready')).rejects.toThrow(InvalidOptionError)
    })
  })

  it('has typed options and results', () => {
    expectTypeOf(createHealthOptionKeys).toEqualTypeOf<readonly ['cacheMs', 'defaultTimeoutMs', 'registry']>()
    expectTypeOf(addCheckOptionKeys).items.toEqualTypeOf<
      'name' | 'kind' | 'check' | 'timeoutMs' | 'cacheMs'
    >()
    expectTypeOf<CheckResult['status']>().toEqualTypeOf<'ok' | 'fail'>()
    // Compiled, not run: these must not typecheck.
    const wrong = () => {
      // @ts-expect-error unknown option
      createHealth({ cache: 5 })
      // @ts-expect-error kind is a closed set
      createHealth().addCheck({ name: 'x', kind: 'alive', check: () => true })
    }
    expectTypeOf(wrong).toBeFunction()
  })
})
