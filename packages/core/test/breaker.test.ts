import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import fc from 'fast-check'
import CircuitBreaker from 'opossum'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import {
  type Breaker,
  type CreateBreakerOptions,
  createBreaker,
  createBreakerOptionKeys,
} from '../src/breaker.js'
import { BreakerOpenError, InvalidOptionError, isGoreliableError } from '../src/errors.js'

/** Reads one sample from Prometheus text: the line whose name matches and whose labels include `labels`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]))
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3])
  }
  return undefined
}

async function stateOf(registry: Registry, name: string): Promise<Record<string, number | undefined>> {
  const text = await registry.metrics()
  const states = ['closed', 'open', 'half_open'] as const
  return Object.fromEntries(
    states.map((state) => [state, sample(text, 'circuit_breaker_state', { name, state })]),
  )
}

const live: Breaker<never[]>[] = []
function make<TI extends unknown[], TR>(action: (...args: TI) => Promise<TR>, options: CreateBreakerOptions) {
  const breaker = createBreaker(action, options)
  live.push(breaker as unknown as Breaker<never[]>)
  return breaker
}
afterEach(() => {
  for (const b of live.splice(0)) b.shutdown()
  vi.useRealTimers()
})

/** An action whose every call is told how to end: 'ok', 'fail' (a 5xx-like error), 'hang'. */
const upstream = async (mode: 'ok' | 'fail' | 'hang' | 'bad-request') => {
  if (mode === 'ok') return 'ok'
  if (mode === 'hang') return new Promise<string>(() => {})
  const err = Object.assign(new Error(mode), { statusCode: mode === 'fail' ? 502 : 400 })
  throw err
}

describe('createBreaker', () => {
  it('is an opossum CircuitBreaker whose state gauge is one-hot through closed, open, half_open, closed', async () => {
    vi.useFakeTimers()
    const registry = new Registry()
    const breaker = make(upstream, { name: 'orders', registry, resetTimeoutMs: 1000 })
    expect(breaker).toBeInstanceOf(CircuitBreaker)
    expect(await stateOf(registry, 'orders')).toEqual({ closed: 1, open: 0, half_open: 0 })
    expect(breaker.retryAfterSeconds()).toBe(0)

    await expect(breaker.fire('fail')).rejects.toThrow('fail')
    expect(breaker.opened).toBe(true)
    expect(await stateOf(registry, 'orders')).toEqual({ closed: 0, open: 1, half_open: 0 })

    await vi.advanceTimersByTimeAsync(1000)
    expect(breaker.halfOpen).toBe(true)
    expect(await stateOf(registry, 'orders')).toEqual({ closed: 0, open: 0, half_open: 1 })

    await expect(breaker.fire('ok')).resolves.toBe('ok')
    expect(await stateOf(registry, 'orders')).toEqual({ closed: 1, open: 0, half_open: 0 })
    // opossum's own API and statistics still work
    expect(breaker.toJSON().state.closed).toBe(true)
    expect(breaker.stats.fires).toBe(2)
  })

  it('counts every event and records durations per outcome', async () => {
    vi.useFakeTimers()
    const registry = new Registry()
    const breaker = make(upstream, { name: 'pay', registry, timeoutMs: 50, resetTimeoutMs: 1000 })
    await breaker.fire('ok')
    await breaker.fire('ok')
    await expect(breaker.fire('fail')).rejects.toThrow('fail') // 1 of 3 failed
    const timedOut = breaker.fire('hang')
    const timedOutResult = expect(timedOut).rejects.toMatchObject({ code: 'ETIMEDOUT' })
    await vi.advanceTimersByTimeAsync(50)
    await timedOutResult // a timeout is a failure too: 2 of 4, not above 50 %
    expect(breaker.closed).toBe(true)
    await expect(breaker.fire('fail')).rejects.toThrow('fail') // 3 of 5: opens
    await expect(breaker.fire('ok')).rejects.toBeInstanceOf(BreakerOpenError)
    await vi.advanceTimersByTimeAsync(1000)
    await breaker.fire('ok') // the half-open trial closes it

    const text = await registry.metrics()
    const events = (event: string) => sample(text, 'circuit_breaker_events_total', { name: 'pay', event })
    expect(text).toContain('# TYPE circuit_breaker_events_total counter')
    expect({
      success: events('success'),
      failure: events('failure'),
      timeout: events('timeout'),
      reject: events('reject'),
      fallback: events('fallback'),
      open: events('open'),
      half_open: events('half_open'),
      close: events('close'),
    }).toEqual({
      success: 3,
      failure: 3,
      timeout: 1,
      reject: 1,
      fallback: 0,
      open: 1,
      half_open: 1,
      close: 1,
    })

    const count = (outcome: string) =>
      sample(text, 'circuit_breaker_call_duration_seconds_count', { name: 'pay', outcome })
    expect(text).toContain('# TYPE circuit_breaker_call_duration_seconds histogram')
    expect([count('success'), count('failure'), count('timeout'), count('reject')]).toEqual([3, 2, 1, 1])
    const inf = sample(text, 'circuit_breaker_call_duration_seconds_bucket', {
      name: 'pay',
      outcome: 'success',
      le: '+Inf',
    })
    expect(inf).toBe(3)
    // the timeout's duration is real time (hrtime is not faked), so it only has to be non-negative
    expect(
      sample(text, 'circuit_breaker_call_duration_seconds_sum', { name: 'pay', outcome: 'timeout' }),
    ).toBeGreaterThanOrEqual(0)
  })

  it('rejects with BreakerOpenError whose retryAfterSeconds counts down, at the first and the second opening', async () => {
    const registry = new Registry()
    const breaker = make(upstream, { name: 'inventory', registry, resetTimeoutMs: 2000 })
    await expect(breaker.fire('fail')).rejects.toThrow('fail')

    const first = await breaker.fire('ok').catch((e: unknown) => e)
    expect(first).toBeInstanceOf(BreakerOpenError)
    expect(isGoreliableError(first)).toBe(true)
    expect(first).toMatchObject({
      code: 'GR_ERR_BREAKER_OPEN',
      statusCode: 503,
      retryAfterSeconds: 2,
      breakerName: 'inventory',
    })
    await sleep(1100)
    expect(await breaker.fire('ok').catch((e: BreakerOpenError) => e.retryAfterSeconds)).toBe(1)
    expect(breaker.retryAfterSeconds()).toBe(1)

    await once(breaker, 'halfOpen')
    await expect(breaker.fire('fail')).rejects.toThrow('fail') // the trial fails: second opening
    // opossum's toJSON().state.lastTimerAt still holds construction time here; ours is fresh
    const second = await breaker.fire('ok').catch((e: unknown) => e)
    expect(second).toMatchObject({ code: 'GR_ERR_BREAKER_OPEN', statusCode: 503, retryAfterSeconds: 2 })
    await sleep(1100)
    expect(breaker.retryAfterSeconds()).toBe(1)
  })

  it('answers BreakerOpenError, not EOPENBREAKER, while the half-open trial is in flight', async () => {
    vi.useFakeTimers()
    const registry = new Registry()
    const breaker = make(upstream, { name: 'slow', registry, resetTimeoutMs: 1000, timeoutMs: false })
    await expect(breaker.fire('fail')).rejects.toThrow()
    await vi.advanceTimersByTimeAsync(1000)
    expect(breaker.retryAfterSeconds()).toBe(0) // half-open, the trial slot is free
    void breaker.fire('hang')
    const err = await breaker.fire('ok').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BreakerOpenError)
    expect(err).toMatchObject({ retryAfterSeconds: 1 })
    expect(await stateOf(registry, 'slow')).toEqual({ closed: 0, open: 0, half_open: 1 })
  })

  it('keeps the breaker closed on errors isFailure() excuses, and opens on the others', async () => {
    const registry = new Registry()
    const breaker = make(upstream, {
      name: 'catalog',
      registry,
      errorThresholdPercentage: 10, // were the 4xx counted, the first one would open it
      isFailure: (err) => (err as { statusCode?: number }).statusCode !== 400,
    })
    for (let i = 0; i < 5; i++)
      await expect(breaker.fire('bad-request')).rejects.toMatchObject({ statusCode: 400 })
    expect(breaker.closed).toBe(true)
    let text = await registry.metrics()
    expect(sample(text, 'circuit_breaker_events_total', { name: 'catalog', event: 'success' })).toBe(5)
    expect(sample(text, 'circuit_breaker_events_total', { name: 'catalog', event: 'failure' })).toBe(0)
    expect(
      sample(text, 'circuit_breaker_call_duration_seconds_count', { name: 'catalog', outcome: 'success' }),
    ).toBe(5)

    await expect(breaker.fire('fail')).rejects.toMatchObject({ statusCode: 502 })
    expect(breaker.opened).toBe(true)
    text = await registry.metrics()
    expect(
      sample(text, 'circuit_breaker_call_duration_seconds_count', { name: 'catalog', outcome: 'failure' }),
    ).toBe(1)
  })

  it('runs a fallback with the BreakerOpenError and counts it, keeping the outcome reject', async () => {
    const registry = new Registry()
    const breaker = make(upstream, { name: 'fb', registry })
    const seen: unknown[] = []
    breaker.fallback((...args: unknown[]) => {
      seen.push(args.at(-1))
      return 'cached'
    })
    await expect(breaker.fire('fail')).resolves.toBe('cached')
    await expect(breaker.fire('ok')).resolves.toBe('cached')
    expect(seen[1]).toBeInstanceOf(BreakerOpenError)
    const text = await registry.metrics()
    expect(sample(text, 'circuit_breaker_events_total', { name: 'fb', event: 'fallback' })).toBe(2)
    expect(
      sample(text, 'circuit_breaker_call_duration_seconds_count', { name: 'fb', outcome: 'failure' }),
    ).toBe(1)
    expect(
      sample(text, 'circuit_breaker_call_duration_seconds_count', { name: 'fb', outcome: 'reject' }),
    ).toBe(1)
    expect(
      sample(text, 'circuit_breaker_call_duration_seconds_count', { name: 'fb', outcome: 'success' }),
    ).toBe(0)
  })

  it('labels calls refused for capacity as reject, with opossum’s error', async () => {
    const registry = new Registry()
    const breaker = make(upstream, {
      name: 'cap',
      registry,
      capacity: 1,
      timeoutMs: false,
      volumeThreshold: 10,
    })
    void breaker.fire('hang')
    await expect(breaker.fire('ok')).rejects.toMatchObject({ code: 'ESEMLOCKED' })
    const text = await registry.metrics()
    expect(
      sample(text, 'circuit_breaker_call_duration_seconds_count', { name: 'cap', outcome: 'reject' }),
    ).toBe(1)
  })
})

describe('healthCheck', () => {
  it('opens the breaker while the check fails and closes it as soon as it passes', async () => {
    vi.useFakeTimers()
    const registry = new Registry()
    let healthy = true
    let checks = 0
    const breaker = make(upstream, {
      name: 'gateway',
      registry,
      resetTimeoutMs: 500, // shorter than the interval: the failing check must still hold it open
      healthCheck: {
        intervalMs: 3000,
        check: async () => {
          checks++
          if (!healthy) throw new Error('down')
        },
      },
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(breaker.closed).toBe(true)

    healthy = false
    await vi.advanceTimersByTimeAsync(3000)
    expect(breaker.opened).toBe(true)
    expect(await stateOf(registry, 'gateway')).toEqual({ closed: 0, open: 1, half_open: 0 })
    await expect(breaker.fire('ok')).rejects.toMatchObject({
      code: 'GR_ERR_BREAKER_OPEN',
      retryAfterSeconds: 3,
    })

    await vi.advanceTimersByTimeAsync(1600) // past resetTimeoutMs: still refused, and nearer the next check
    expect(breaker.opened).toBe(true)
    await expect(breaker.fire('ok')).rejects.toMatchObject({
      code: 'GR_ERR_BREAKER_OPEN',
      retryAfterSeconds: 2,
    })

    healthy = true
    await vi.advanceTimersByTimeAsync(1400)
    expect(breaker.closed).toBe(true)
    expect(await stateOf(registry, 'gateway')).toEqual({ closed: 1, open: 0, half_open: 0 })
    await expect(breaker.fire('ok')).resolves.toBe('ok')

    breaker.shutdown()
    const before = checks
    await vi.advanceTimersByTimeAsync(10_000)
    expect(checks).toBe(before)
  })

  it('treats a check that throws synchronously or hangs as a failure, without crashing', async () => {
    vi.useFakeTimers()
    const registry = new Registry()
    const throwing = make(upstream, {
      name: 'throws',
      registry,
      healthCheck: {
        intervalMs: 1000,
        check: () => {
          throw new Error('sync')
        },
      },
    })
    const hanging = make(upstream, {
      name: 'hangs',
      registry,
      healthCheck: { intervalMs: 1000, check: () => new Promise(() => {}) },
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(throwing.opened).toBe(true)
    expect(hanging.closed).toBe(true) // no answer yet
    await vi.advanceTimersByTimeAsync(1000)
    expect(hanging.opened).toBe(true)
    expect(hanging.retryAfterSeconds()).toBeGreaterThanOrEqual(1)
  })
})

describe('options', () => {
  const registry = new Registry()
  const cases: Array<[string, Record<string, unknown>]> = [
    ['resetTimeoutMs', { name: 'x', registry, resetTimeoutMs: -1 }],
    ['name', { registry }],
    ['registry', { name: 'x' }],
    ['events', { name: 'x', registry, events: ['success', 'explode'] }],
    ['events', { name: 'x', registry, events: 'success' }],
    ['isFailure', { name: 'x', registry, isFailure: 'no' }],
    ['timeout', { name: 'x', registry, timeout: 100 }],
    ['timeoutMs', { name: 'x', registry, timeoutMs: true }],
    ['healthCheck.check', { name: 'x', registry, healthCheck: { intervalMs: 100 } }],
    [
      'healthCheck.intervalMs',
      { name: 'x', registry, healthCheck: { check: async () => {}, intervalMs: 0 } },
    ],
    ['capacity', { name: 'x', registry, capacity: 1.5 }],
    ['errorThresholdPercentage', { name: 'x', registry, errorThresholdPercentage: 101 }],
  ]
  it.each(cases)('rejects a bad %s with a coded TypeError naming it', (option, options) => {
    let err: unknown
    try {
      createBreaker(upstream, options as unknown as CreateBreakerOptions)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InvalidOptionError)
    expect(err).toBeInstanceOf(TypeError)
    expect(err).toMatchObject({ code: 'GR_ERR_INVALID_OPTION', option })
    expect((err as Error).message).toContain(option)
  })

  it('types the action through to fire() and rejects misspelt options at compile time', () => {
    const own = new Registry()
    const breaker = make(async (id: string, n: number) => ({ id, n }), { name: 't', registry: own })
    expectTypeOf(breaker.fire).parameters.toEqualTypeOf<[string, number]>()
    expectTypeOf(breaker.fire('a', 1)).resolves.toEqualTypeOf<{ id: string; n: number }>()
    expectTypeOf(breaker.retryAfterSeconds()).toBeNumber()
    // @ts-expect-error opossum's `timeout` is spelt `timeoutMs` here
    expect(() => createBreaker(upstream, { name: 't', registry: own, timeout: 5 })).toThrow(
      InvalidOptionError,
    )
    // @ts-expect-error an event that is not counted
    expect(() => createBreaker(upstream, { name: 't', registry: own, events: ['retry'] })).toThrow(
      InvalidOptionError,
    )
  })

  it('exports its option keys', () => {
    expect(createBreakerOptionKeys).toContain('healthCheck')
    expect(createBreakerOptionKeys).toHaveLength(13)
  })

  it('counts only the events asked for', async () => {
    const own = new Registry()
    const breaker = make(upstream, { name: 'few', registry: own, events: ['open', 'close'] })
    await breaker.fire('ok')
    const text = await own.metrics()
    expect(sample(text, 'circuit_breaker_events_total', { name: 'few', event: 'open' })).toBe(0)
    expect(sample(text, 'circuit_breaker_events_total', { name: 'few', event: 'success' })).toBeUndefined()
  })
})

describe('shared registries', () => {
  it('lets many breakers, the same name twice, and a second registry report without throwing', async () => {
    const one = new Registry()
    const two = new Registry()
    const a = make(upstream, { name: 'a', registry: one })
    const b = make(upstream, { name: 'b', registry: one })
    const a2 = make(upstream, { name: 'a', registry: one })
    const other = make(upstream, { name: 'a', registry: two })
    await Promise.all([a.fire('ok'), b.fire('ok'), a2.fire('ok'), other.fire('ok')])
    await expect(a2.fire('fail')).rejects.toThrow() // 1 of 2
    await expect(a2.fire('fail')).rejects.toThrow() // 2 of 3: opens

    const text = await one.metrics()
    expect(text.match(/^# TYPE circuit_breaker_state gauge$/gm)).toHaveLength(1)
    expect(sample(text, 'circuit_breaker_events_total', { name: 'a', event: 'success' })).toBe(2) // summed by name
    expect(sample(text, 'circuit_breaker_events_total', { name: 'b', event: 'success' })).toBe(1)
    // two live breakers under one name report the most refusing state
    expect(await stateOf(one, 'a')).toEqual({ closed: 0, open: 1, half_open: 0 })
    expect(await stateOf(two, 'a')).toEqual({ closed: 1, open: 0, half_open: 0 })
    expect(sample(await two.metrics(), 'circuit_breaker_events_total', { name: 'a', event: 'success' })).toBe(
      1,
    )

    a2.shutdown()
    expect(await stateOf(one, 'a')).toEqual({ closed: 1, open: 0, half_open: 0 })
    a.shutdown()
    expect(await stateOf(one, 'a')).toEqual({ closed: undefined, open: undefined, half_open: undefined })
  })
})

describe('properties', () => {
  type Step = { kind: 'ok' } | { kind: 'fail' } | { kind: 'advance'; ms: number }
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.constant({ kind: 'ok' as const }),
    fc.constant({ kind: 'fail' as const }),
    fc.integer({ min: 1, max: 4000 }).map((ms) => ({ kind: 'advance' as const, ms })),
  )

  it('keeps the state gauge one-hot and in step with opossum, and retryAfterSeconds >= 1 while open', async () => {
    vi.useFakeTimers()
    const resetTimeoutMs = 2500
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 25 }),
        fc.integer({ min: 0, max: 3 }),
        async (steps, volumeThreshold) => {
          const registry = new Registry()
          const breaker = make(upstream, {
            name: 'p',
            registry,
            resetTimeoutMs,
            volumeThreshold,
            timeoutMs: false,
          })
          // The model: whole seconds from now until resetTimeoutMs after the latest opening.
          let openedAt = Number.NaN
          breaker.on('open', () => {
            openedAt = performance.now()
          })
          const expected = () =>
            Math.max(1, Math.ceil((openedAt + resetTimeoutMs - performance.now()) / 1000))
          for (const s of steps) {
            if (s.kind === 'advance') await vi.advanceTimersByTimeAsync(s.ms)
            else {
              const wasOpen = breaker.opened
              const err = await breaker.fire(s.kind).then(
                () => undefined,
                (e: unknown) => e,
              )
              if (wasOpen) {
                expect(err).toBeInstanceOf(BreakerOpenError)
                expect((err as BreakerOpenError).retryAfterSeconds).toBe(expected())
              }
            }
            const state = await stateOf(registry, 'p')
            expect(Object.values(state).filter((v) => v === 1)).toHaveLength(1)
            expect(Object.values(state).filter((v) => v === 0)).toHaveLength(2)
            expect(state).toEqual({
              closed: breaker.closed ? 1 : 0,
              open: breaker.opened ? 1 : 0,
              half_open: breaker.halfOpen ? 1 : 0,
            })
            if (breaker.opened) {
              expect(breaker.retryAfterSeconds()).toBeGreaterThanOrEqual(1)
              expect(breaker.retryAfterSeconds()).toBe(expected())
            } else if (breaker.closed) expect(breaker.retryAfterSeconds()).toBe(0)
          }
          breaker.shutdown()
        },
      ),
      { numRuns: 150 },
    )
  })
})
