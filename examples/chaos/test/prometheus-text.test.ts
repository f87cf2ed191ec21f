import fc from 'fast-check'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { maxSeries, parsePrometheusText, sumSeries } from '../src/index.js'

describe('parsePrometheusText', () => {
  it('reads what prom-client writes: counters, gauges with labels, histograms, special values', async () => {
    const registry = new Registry()
    const c = new Counter({ name: 'orders_total', help: 'h', labelNames: ['status'], registers: [registry] })
    c.inc({ status: '201' }, 3)
    c.inc({ status: '503' })
    const g = new Gauge({
      name: 'db_client_connections_pending_requests',
      help: 'h',
      labelNames: ['pool_name'],
      registers: [registry],
    })
    g.set({ pool_name: 'orders' }, 4)
    g.set({ pool_name: 'audit' }, 1)
    new Gauge({ name: 'weird', help: 'h', registers: [registry] }).set(Number.POSITIVE_INFINITY)
    const h = new Histogram({ name: 'lat_seconds', help: 'h', buckets: [0.1, 1], registers: [registry] })
    h.observe(0.05)
    h.observe(0.5)
    const samples = parsePrometheusText(await registry.metrics())
    expect(sumSeries(samples, 'orders_total')).toBe(4)
    expect(sumSeries(samples, 'orders_total', { status: '201' })).toBe(3)
    expect(sumSeries(samples, 'db_client_connections_pending_requests')).toBe(5)
    expect(maxSeries(samples, 'db_client_connections_pending_requests')).toBe(4)
    expect(sumSeries(samples, 'weird')).toBe(Number.POSITIVE_INFINITY)
    expect(sumSeries(samples, 'lat_seconds_count')).toBe(2)
    expect(sumSeries(samples, 'lat_seconds_bucket', { le: '+Inf' })).toBe(2)
    expect(sumSeries(samples, 'lat_seconds_bucket', { le: '0.1' })).toBe(1)
    expect(sumSeries(samples, 'absent')).toBeUndefined()
  })

  it('handles escapes, timestamps, spacing, comments and malformed lines', () => {
    const text = [
      '# HELP x a help line',
      '# TYPE x gauge',
      'x{path="/a\\"b\\\\c\\nd",code="200"} 1.5 1700000000000',
      'x{ code = "500" } 2',
      'y NaN',
      'z -Inf',
      'broken{label=unquoted} 1',
      'alsobroken',
      'nan_text abc',
      '',
    ].join('\n')
    const samples = parsePrometheusText(text)
    expect(samples[0]).toEqual({ name: 'x', labels: { path: '/a"b\\c\nd', code: '200' }, value: 1.5 })
    expect(samples.map((s) => s.name)).toEqual(['x', 'y', 'z'])
    expect(Number.isNaN(samples[1]!.value)).toBe(true)
    expect(samples[2]!.value).toBe(Number.NEGATIVE_INFINITY)
  })

  it('reads back every label value prom-client can write', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 30 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        async (label, value) => {
          const registry = new Registry()
          new Gauge({ name: 'g', help: 'h', labelNames: ['l'], registers: [registry] }).set(
            { l: label },
            value,
          )
          const [sample] = parsePrometheusText(await registry.metrics())
          expect(sample?.labels.l).toBe(label)
          // prom-client writes -0 as 0; the number is the same.
          expect(sample?.value === value).toBe(true)
        },
      ),
      { numRuns: 200 },
    )
  })
})
