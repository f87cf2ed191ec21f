import fc from 'fast-check'
import { Counter, Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../src/errors.js'
import {
  createFastHistogram,
  DURATION_BUCKETS_SECONDS,
  type FastHistogramOptions,
} from '../src/fast-histogram.js'

type Observation = { labels: [string, string]; value: number }

async function bothExpositions(buckets: readonly number[], observations: readonly Observation[]) {
  const ours = new Registry()
  const theirs = new Registry()
  const fast = createFastHistogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests.',
    labelNames: ['http_request_method', 'http_route'],
    buckets,
    registry: ours,
  })
  const reference = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests.',
    labelNames: ['http_request_method', 'http_route'],
    buckets: [...buckets],
    registers: [theirs],
  })
  for (const { labels, value } of observations) {
    fast.series(...labels).observe(value)
    reference.observe({ http_request_method: labels[0], http_route: labels[1] }, value)
  }
  return { ours: await ours.metrics(), theirs: await theirs.metrics() }
}

describe('createFastHistogram exposition', () => {
  it("prints the same _bucket, _sum and _count samples as prom-client's Histogram", async () => {
    const observations: Observation[] = [
      { labels: ['GET', '/orders'], value: 0.004 },
      { labels: ['GET', '/orders'], value: 0.005 }, // on a bound: counted in le="0.005" (upper bounds are inclusive)
      { labels: ['GET', '/orders'], value: 0.3 },
      { labels: ['POST', '/orders'], value: 12 }, // above the last bound: only in +Inf
      { labels: ['POST', '/orders'], value: 0 },
      { labels: ['GET', '/orders/:id'], value: 1 },
    ]
    const { ours, theirs } = await bothExpositions(DURATION_BUCKETS_SECONDS, observations)
    // Byte for byte, label order included (prom-client writes `le` first).
    expect(ours.split('\n')).toEqual(theirs.split('\n'))
    expect(ours).toContain(
      'http_server_request_duration_seconds_bucket{le="0.005",http_request_method="GET",http_route="/orders"} 2',
    )
    expect(ours).toContain(
      'http_server_request_duration_seconds_bucket{le="10",http_request_method="POST",http_route="/orders"} 1',
    )
    expect(ours).toContain(
      'http_server_request_duration_seconds_bucket{le="+Inf",http_request_method="POST",http_route="/orders"} 2',
    )
    expect(ours).toContain(
      'http_server_request_duration_seconds_count{http_request_method="GET",http_route="/orders"} 3',
    )
    expect(ours).toContain('# TYPE http_server_request_duration_seconds histogram')
  })

  it('matches prom-client for any buckets, labels and observations', async () => {
    const buckets = fc
      // -0 and 0 are distinct to fast-check but the same bound to a histogram: normalise before uniqueness.
      .uniqueArray(
        fc.double({ min: -10, max: 100, noNaN: true, noDefaultInfinity: true }).map((b) => b + 0),
        { minLength: 1, maxLength: 12, comparator: 'SameValueZero' },
      )
      .map((bs) => bs.sort((a, b) => a - b))
    const label = fc.constantFrom('GET', 'POST', '/a', '/b/:id', 'quote"and\\slash', 'line\nbreak', '')
    const observation = fc.record({
      labels: fc.tuple(label, label),
      value: fc.double({ min: -20, max: 200, noNaN: true, noDefaultInfinity: true }),
    })
    await fc.assert(
      fc.asyncProperty(buckets, fc.array(observation, { maxLength: 60 }), async (bs, observations) => {
        const { ours, theirs } = await bothExpositions(bs, observations as Observation[])
        expect(ours).toBe(theirs)
      }),
      { numRuns: 200 },
    )
  })

  it('applies registry default labels and serves getMetricsAsJSON as prom-client does', async () => {
    const ours = new Registry()
    const theirs = new Registry()
    for (const registry of [ours, theirs]) registry.setDefaultLabels({ service: 'orders' })
    createFastHistogram({ name: 'job_seconds', help: 'h', labelNames: ['job'], buckets: [1], registry: ours })
      .series('sync')
      .observe(0.5)
    new Histogram({
      name: 'job_seconds',
      help: 'h',
      labelNames: ['job'],
      buckets: [1],
      registers: [theirs],
    }).observe({ job: 'sync' }, 0.5)
    expect(await ours.metrics()).toBe(await theirs.metrics())
    expect(await ours.metrics()).toContain('job_seconds_bucket{le="1",service="orders",job="sync"} 1')
    // prom-client adds an empty `exemplar` to each value; the rest must agree.
    const json = async (registry: Registry) =>
      (await registry.getMetricsAsJSON()).map((m) => ({
        ...m,
        values: (m.values as Array<{ labels: unknown; value: number; metricName?: string }>).map(
          ({ labels, value, metricName }) => ({ labels, value, metricName }),
        ),
      }))
    expect(await json(ours)).toEqual(await json(theirs))
  })
})

describe('createFastHistogram shared family', () => {
  const options = (registry: Registry): FastHistogramOptions => ({
    name: 'db_client_connections_wait_time_seconds',
    help: 'Time to obtain an open connection from the pool.',
    labelNames: ['pool_name'],
    buckets: [0.01, 0.1, 1],
    registry,
  })

  it('returns one family for two calls with the same name in one registry', async () => {
    const registry = new Registry()
    const first = createFastHistogram(options(registry))
    const second = createFastHistogram(options(registry))
    expect(second).toBe(first)
    first.series('primary').observe(0.05)
    second.series('replica').observe(0.5)
    second.series('primary').observe(0.005)
    const text = await registry.metrics()
    expect(text.match(/^# TYPE /gm)).toHaveLength(1)
    expect(text).toContain('db_client_connections_wait_time_seconds_count{pool_name="primary"} 2')
    expect(text).toContain('db_client_connections_wait_time_seconds_count{pool_name="replica"} 1')
  })

  it('keeps families of different registries apart', async () => {
    const a = new Registry()
    const b = new Registry()
    createFastHistogram(options(a)).series('primary').observe(0.05)
    createFastHistogram(options(b))
    expect(await a.metrics()).toContain('pool_name="primary"')
    expect(await b.metrics()).not.toContain('pool_name="primary"')
  })

  it('refuses a second call whose labels or buckets differ from the family it would join', () => {
    const registry = new Registry()
    createFastHistogram(options(registry))
    const otherLabels = () => createFastHistogram({ ...options(registry), labelNames: ['pool'] })
    const otherBuckets = () => createFastHistogram({ ...options(registry), buckets: [1, 2] })
    expect(otherLabels).toThrow(InvalidOptionError)
    expect(otherLabels).toThrow('"labelNames"')
    expect(otherBuckets).toThrow(InvalidOptionError)
    expect(otherBuckets).toThrow('"buckets"')
  })

  it('refuses a name that another kind of metric already holds', () => {
    const registry = new Registry()
    registry.registerMetric(new Counter({ name: 'taken_total', help: 'h', registers: [] }))
    let caught: unknown
    try {
      createFastHistogram({ name: 'taken_total', help: 'h', labelNames: [], buckets: [1], registry })
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(InvalidOptionError)
    expect(caught).toMatchObject({ option: 'name' })
  })
})

describe('createFastHistogram series', () => {
  function histogram(registry = new Registry()) {
    return createFastHistogram({
      name: 'op_seconds',
      help: 'h',
      labelNames: ['op', 'outcome'],
      buckets: [1],
      registry,
    })
  }

  it('returns the same series object for the same label values', () => {
    const h = histogram()
    expect(h.series('read', 'ok')).toBe(h.series('read', 'ok'))
    expect(h.series('read', 'ok')).not.toBe(h.series('read', 'error'))
  })

  it('refuses a wrong number of label values instead of writing a duplicate or blank series', () => {
    const h = histogram()
    expect(() => h.series('read')).toThrow(InvalidOptionError)
    expect(() => h.series('read', 'ok', 'extra')).toThrow(InvalidOptionError)
  })

  it('ignores NaN and infinite observations, as prom-client refuses them', async () => {
    const registry = new Registry()
    const s = histogram(registry).series('read', 'ok')
    s.observe(0.5)
    s.observe(Number.NaN)
    s.observe(Number.POSITIVE_INFINITY)
    const text = await registry.metrics()
    expect(text).toContain('op_seconds_sum{op="read",outcome="ok"} 0.5')
    expect(text).toContain('op_seconds_count{op="read",outcome="ok"} 1')
  })

  it('keeps series handed out before registry.resetMetrics() recording', async () => {
    const registry = new Registry()
    const s = histogram(registry).series('read', 'ok')
    s.observe(0.5)
    registry.resetMetrics()
    expect(await registry.metrics()).not.toContain('op_seconds_count{op="read",outcome="ok"} 1')
    s.observe(2)
    const text = await registry.metrics()
    expect(text).toContain('op_seconds_count{op="read",outcome="ok"} 1')
    expect(text).toContain('op_seconds_sum{op="read",outcome="ok"} 2')
  })
})

describe('createFastHistogram options', () => {
  const valid = (): FastHistogramOptions => ({
    name: 'ok_seconds',
    help: 'h',
    labelNames: ['a'],
    buckets: [0.1, 1],
    registry: new Registry(),
  })

  it.each([
    ['empty', []],
    ['repeated', [0.1, 0.1]],
    ['descending', [1, 0.1]],
    ['NaN', [0.1, Number.NaN]],
    ['+Inf (always added)', [0.1, Number.POSITIVE_INFINITY]],
    ['not an array', 0.1],
  ])('rejects %s buckets', (_, buckets) => {
    const call = () => createFastHistogram({ ...valid(), buckets: buckets as number[] })
    expect(call).toThrow(InvalidOptionError)
    expect(call).toThrow('"buckets"')
  })

  it.each([
    ['name', { name: 'has space' }],
    ['name', { name: '' }],
    ['help', { help: '' }],
    ['labelNames[0]', { labelNames: ['le'] }],
    ['labelNames[1]', { labelNames: ['a', 'a'] }],
    ['labelNames[0]', { labelNames: ['bad-name'] }],
    ['labelNames', { labelNames: '__name__' }],
    ['registry', { registry: {} }],
  ])('rejects a bad %s', (option, override) => {
    let caught: unknown
    try {
      createFastHistogram({ ...valid(), ...(override as Partial<FastHistogramOptions>) })
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(InvalidOptionError)
    expect(caught).toMatchObject({ code: 'GR_ERR_INVALID_OPTION', option })
  })
})
