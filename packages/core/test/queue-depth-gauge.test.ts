import { spawnSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { Gauge, type OpenMetricsContentType, Registry } from 'prom-client'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { ErrorCodes, InvalidOptionError } from '../src/errors.js'
import { createQueueDepthGauge, createQueueDepthGaugeOptionKeys } from '../src/queue-depth-gauge.js'

/** The value of the one sample of `name` whose labels include `labels`, from Prometheus text. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found: number[] = []
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) found.push(Number(m[3]))
  }
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return found[0]
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const never = () => new Promise<number>(() => {})

describe('createQueueDepthGauge', () => {
  it('exports an unlabelled value with its error count and age', async () => {
    const registry = new Registry()
    createQueueDepthGauge({ name: 'jobs_pending', help: 'Jobs waiting', collect: async () => 7, registry })
    const text = await registry.metrics()
    expect(text).toContain('# HELP jobs_pending Jobs waiting\n# TYPE jobs_pending gauge\njobs_pending 7\n')
    expect(text).toContain(
      '# TYPE jobs_pending_collect_errors_total counter\njobs_pending_collect_errors_total 0\n',
    )
    expect(text).toContain('# TYPE jobs_pending_age_seconds gauge\n')
    expect(sample(text, 'jobs_pending_age_seconds')).toBeLessThan(1)
  })

  it('exports one series per label set', async () => {
    const registry = new Registry()
    createQueueDepthGauge({
      name: 'nats_consumer_pending_messages',
      help: 'Messages not yet delivered to the consumer',
      labelNames: ['stream', 'consumer'],
      collect: () => [
        { labels: { stream: 'ORDERS', consumer: 'billing' }, value: 12 },
        { labels: { stream: 'ORDERS', consumer: 'shipping' }, value: 0 },
      ],
      registry,
    })
    const text = await registry.metrics()
    expect(text).toContain('nats_consumer_pending_messages{stream="ORDERS",consumer="billing"} 12\n')
    expect(text).toContain('nats_consumer_pending_messages{stream="ORDERS",consumer="shipping"} 0\n')
  })

  it('asks the broker once for a burst of scrapes, concurrent or not', async () => {
    const registry = new Registry()
    let calls = 0
    const gauge = createQueueDepthGauge({
      name: 'q',
      help: 'q',
      cacheMs: 60_000,
      collect: async () => {
        calls++
        await sleep(10)
        return calls
      },
      registry,
    })
    const texts = await Promise.all(Array.from({ length: 5 }, () => registry.metrics()))
    for (let i = 0; i < 5; i++) texts.push(await registry.metrics())
    expect(calls).toBe(1)
    for (const text of texts) expect(sample(text, 'q')).toBe(1)

    await gauge.refresh()
    expect(calls).toBe(2)
    expect(sample(await registry.metrics(), 'q')).toBe(2)
  })

  it('with cacheMs 0 collects on every scrape, still once for concurrent ones', async () => {
    const registry = new Registry()
    let calls = 0
    createQueueDepthGauge({
      name: 'q',
      help: 'q',
      cacheMs: 0,
      collect: async () => {
        await sleep(5)
        return ++calls
      },
      registry,
    })
    await Promise.all([registry.metrics(), registry.metrics(), registry.metrics()])
    expect(calls).toBe(1)
    expect(sample(await registry.metrics(), 'q')).toBe(2)
  })

  it('never lets a hanging collect stall a scrape, and keeps the last good value', async () => {
    const registry = new Registry()
    const timeoutMs = 150
    let calls = 0
    const gauge = createQueueDepthGauge({
      name: 'q',
      help: 'q',
      cacheMs: 0,
      timeoutMs,
      collect: () => (++calls === 1 ? 5 : never()),
      registry,
    })
    const first = await registry.metrics()
    expect(sample(first, 'q')).toBe(5)

    for (const errors of [1, 2]) {
      const start = performance.now()
      // Concurrent scrapes share the one hanging collect: one error, not three.
      const [text] = await Promise.all([registry.metrics(), registry.metrics(), registry.metrics()])
      expect(performance.now() - start).toBeLessThan(timeoutMs + 2000)
      expect(sample(text!, 'q')).toBe(5)
      expect(sample(text!, 'q_collect_errors_total')).toBe(errors)
      // The value is at least as old as the collects that timed out since it was taken.
      expect(sample(text!, 'q_age_seconds')).toBeGreaterThanOrEqual((errors * timeoutMs * 0.9) / 1000)
    }
    expect(calls).toBe(3)
    expect(gauge.lastError).toMatchObject({ code: ErrorCodes.COLLECT_TIMEOUT })
    gauge.close()
  })

  it('ignores an answer that arrives after the timeout', async () => {
    const registry = new Registry()
    let answer!: (n: number) => void
    let calls = 0
    const gauge = createQueueDepthGauge({
      name: 'q',
      help: 'q',
      cacheMs: 60_000,
      timeoutMs: 50,
      collect: () =>
        ++calls === 1
          ? 5
          : new Promise<number>((r) => {
              answer = r
            }),
      registry,
    })
    expect(sample(await registry.metrics(), 'q')).toBe(5)
    await gauge.refresh()
    answer(99)
    await sleep(1)
    const text = await registry.metrics()
    expect(sample(text, 'q')).toBe(5)
    expect(sample(text, 'q_collect_errors_total')).toBe(1)
  })

  it('keeps the last good values when collect throws, rejects or returns garbage', async () => {
    const registry = new Registry()
    const boom = new Error('broker unreachable')
    const script: Array<() => unknown> = [
      () => [{ labels: { stream: 'A' }, value: 3 }],
      () => {
        throw boom
      },
      () => Promise.reject(boom),
      () => [{ labels: { stream: 'A', nope: 'x' }, value: 1 }],
      () => [{ labels: { stream: 'A' }, value: Number.NaN }],
      () => 4, // a bare number when labelNames are set
      () => [
        { labels: { stream: 'A' }, value: 1 },
        { labels: { stream: 'A' }, value: 2 },
      ],
      () => 'many',
    ]
    let i = 0
    const gauge = createQueueDepthGauge({
      name: 'q',
      help: 'q',
      labelNames: ['stream'],
      cacheMs: 0,
      collect: () => script[i++]!() as never,
      registry,
    })
    let age = sample(await registry.metrics(), 'q_age_seconds')!
    for (let errors = 1; errors < script.length; errors++) {
      await sleep(5)
      const text = await registry.metrics()
      expect(sample(text, 'q', { stream: 'A' })).toBe(3)
      expect(sample(text, 'q_collect_errors_total')).toBe(errors)
      const nextAge = sample(text, 'q_age_seconds')!
      expect(nextAge).toBeGreaterThan(age)
      age = nextAge
    }
    expect(gauge.lastError).toBeInstanceOf(TypeError)
  })

  it('exports no value before the first success, and ages from creation', async () => {
    const registry = new Registry()
    createQueueDepthGauge({
      name: 'q',
      help: 'q',
      cacheMs: 0,
      collect: () => Promise.reject(new Error('x')),
      registry,
    })
    await sleep(20)
    const text = await registry.metrics()
    expect(sample(text, 'q')).toBeUndefined()
    expect(sample(text, 'q_collect_errors_total')).toBe(1)
    expect(sample(text, 'q_age_seconds')).toBeGreaterThanOrEqual(0.015)
  })

  it('serves OpenMetrics too, and close() still unregisters', async () => {
    const registry = new Registry<OpenMetricsContentType>()
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)
    // The options are typed for the default (Prometheus text) registry, as prom-client's own are.
    const gauge = createQueueDepthGauge({
      name: 'q',
      help: 'q',
      collect: () => 3,
      registry: registry as never,
    })
    const text = await registry.metrics()
    expect(text).toContain('# TYPE q_collect_errors counter\nq_collect_errors_total 0\n')
    expect(text).toContain('\nq 3\n')
    gauge.close()
    expect(await registry.metrics()).toBe('\n# EOF\n')
  })

  it('close() unregisters its metrics and abandons a collect in flight', async () => {
    const registry = new Registry()
    const gauge = createQueueDepthGauge({ name: 'q', help: 'q', timeoutMs: 60_000, collect: never, registry })
    const refreshing = gauge.refresh()
    gauge.close()
    await refreshing
    gauge.close()
    expect(await registry.metrics()).toBe('\n')
    createQueueDepthGauge({ name: 'q', help: 'q', collect: () => 1, registry })
    expect(sample(await registry.metrics(), 'q')).toBe(1)
  })

  it('rejects invalid options with a coded TypeError naming the option', () => {
    const registry = new Registry()
    createQueueDepthGauge({ name: 'taken', help: 'h', collect: () => 1, registry })
    new Gauge({ name: 'free_age_seconds', help: 'h', registers: [registry] })
    const base = { name: 'q', help: 'h', collect: () => 1, registry }
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ collect: 'nope' }, 'collect'],
      [{ collect: undefined }, 'collect'],
      [{ cacheMs: -1 }, 'cacheMs'],
      [{ timeoutMs: -1 }, 'timeoutMs'],
      [{ timeoutMs: 0 }, 'timeoutMs'],
      [{ timeoutMs: 2 ** 31 }, 'timeoutMs'],
      [{ name: 'queue-depth' }, 'name'],
      [{ name: undefined }, 'name'],
      [{ name: 'taken' }, 'name'],
      [{ name: 'free' }, 'name'], // its companion free_age_seconds is taken
      [{ help: '' }, 'help'],
      [{ labelNames: 'stream' }, 'labelNames'],
      [{ labelNames: ['ok', 'not-ok'] }, 'labelNames[1]'],
      [{ labelNames: ['a', 'a'] }, 'labelNames[1]'],
      [{ labelNames: ['__reserved'] }, 'labelNames[0]'],
      [{ registry: undefined }, 'registry'],
      [{ timeout: 5 }, 'timeout'],
    ]
    for (const [patch, option] of cases) {
      let err: unknown
      try {
        createQueueDepthGauge({ ...base, ...patch } as never)
      } catch (e) {
        err = e
      }
      expect(err, option).toBeInstanceOf(InvalidOptionError)
      expect(err).toBeInstanceOf(TypeError)
      expect(err).toMatchObject({ code: ErrorCodes.INVALID_OPTION, option })
    }
    expect(createQueueDepthGaugeOptionKeys).toEqual([
      'name',
      'help',
      'labelNames',
      'collect',
      'cacheMs',
      'timeoutMs',
      'registry',
    ])
  })

  it('types collect and the returned object', () => {
    const registry = new Registry()
    const gauge = createQueueDepthGauge({
      name: 'typed',
      help: 'h',
      labelNames: ['stream'],
      collect: async () => [{ labels: { stream: 'A' }, value: 1 }],
      registry,
    })
    expectTypeOf(gauge.refresh).returns.toEqualTypeOf<Promise<void>>()
    // @ts-expect-error collect must return a number or samples
    createQueueDepthGauge({ name: 'typed2', help: 'h', collect: async () => 'many', registry })
    expect(() =>
      // @ts-expect-error unknown option
      createQueueDepthGauge({ name: 'typed3', help: 'h', collect: () => 1, registry, timeout: 1 }),
    ).toThrow()
  })

  it('passes promtool check metrics', async (ctx) => {
    if (spawnSync('promtool', ['--version']).error) {
      if (process.env.CI) throw new Error('promtool is not installed (Debian package "prometheus")')
      ctx.skip('promtool not found: install the Debian package "prometheus" to lint the metric names')
    }
    const registry = new Registry()
    createQueueDepthGauge({
      name: 'nats_consumer_pending_messages',
      help: 'Messages not yet delivered',
      labelNames: ['stream'],
      collect: () => [{ labels: { stream: 'A' }, value: 1 }],
      registry,
    })
    const lint = spawnSync('promtool', ['check', 'metrics'], {
      input: await registry.metrics(),
      encoding: 'utf8',
    })
    expect(`${lint.stdout}${lint.stderr}`).toBe('')
    expect(lint.status).toBe(0)
  })
})
