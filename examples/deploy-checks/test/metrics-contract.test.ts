import { readFileSync } from 'node:fs'
import { createBreaker, createPoolMetrics, registerRuntimeMetrics } from '@goreliable/core'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { build } from './support/builds.js'
import { CONTRACT_METRICS, type ContractMetric } from './support/contract.js'
import {
  annotationLabels,
  legendLabels,
  type QueryUse,
  queryProblems,
  type Recorded,
} from './support/metric-checks.js'
import { DASHBOARDS_DIR, filesUnder, RULES_FILE, rel } from './support/paths.js'
import { readPromql } from './support/promql.js'

/** The recording rules' series and the labels their aggregation keeps. */
function recordedSeries(): Recorded {
  const recorded: Recorded = new Map()
  for (const g of parse(readFileSync(RULES_FILE, 'utf8')).groups) {
    for (const r of g.rules) if (r.record) recorded.set(r.record, readPromql(r.expr).byLabels)
  }
  return recorded
}

function ruleQueries(): QueryUse[] {
  return parse(readFileSync(RULES_FILE, 'utf8')).groups.flatMap(
    (g: {
      rules: { alert?: string; record?: string; expr: string; annotations?: Record<string, string> }[]
    }) =>
      g.rules.map((r) => ({
        where: `${rel(RULES_FILE)} ${r.alert ?? r.record}`,
        expr: r.expr,
        templateLabels: Object.values(r.annotations ?? {}).flatMap(annotationLabels),
      })),
  )
}

function adapterQueries(): QueryUse[] {
  const cm = build('monitoring').docs.find((d) => d.obj.metadata.name === 'goreliable-prometheus-adapter')!
  const config = parse(cm.obj.data['config.yaml'])
  return [...(config.rules ?? []), ...(config.externalRules ?? [])].flatMap(
    (r: { seriesQuery: string; metricsQuery: string }, i: number) => {
      const series = readPromql(r.seriesQuery).metrics[0]
      return [
        { where: `adapter rule ${i} seriesQuery`, expr: r.seriesQuery },
        { where: `adapter rule ${i} metricsQuery`, expr: r.metricsQuery, ...(series ? { series } : {}) },
      ]
    },
  )
}

function kedaQueries(): QueryUse[] {
  return build('keda')
    .docs.filter((d) => d.obj.kind === 'ScaledObject')
    .flatMap((d) =>
      d.obj.spec.triggers
        .filter((t: { type: string }) => t.type === 'prometheus')
        .map((t: { metadata: { query: string } }) => ({
          where: `ScaledObject/${d.obj.metadata.name} prometheus trigger`,
          expr: t.metadata.query,
        })),
    )
}

interface Panel {
  title: string
  panels?: Panel[]
  targets?: { expr: string; legendFormat?: string }[]
}
function dashboardQueries(): QueryUse[] {
  return filesUnder(DASHBOARDS_DIR, (n) => n.endsWith('.json')).flatMap((file) => {
    const panels = (JSON.parse(readFileSync(file, 'utf8')).panels as Panel[]).flatMap((p) => [
      p,
      ...(p.panels ?? []),
    ])
    return panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({
        where: `${rel(file)} "${p.title}"`,
        expr: t.expr,
        templateLabels: legendLabels(t.legendFormat),
      })),
    )
  })
}

describe('metric names and labels in the configs are the contract ones', () => {
  it.each([
    ['alert and recording rules', ruleQueries],
    ['Prometheus Adapter rules', adapterQueries],
    ['KEDA prometheus triggers', kedaQueries],
    ['Grafana dashboards', dashboardQueries],
  ])('%s', (_what, queries) => {
    const q = queries()
    expect(q.length).toBeGreaterThan(0)
    expect(q.flatMap((x) => queryProblems(x, recordedSeries()))).toEqual([])
  })

  it('the dashboard shows request rate and p99 by route, the pool, breakers, queue depth and the event loop', () => {
    const used = new Set(dashboardQueries().flatMap((q) => readPromql(q.expr).metrics))
    for (const m of [
      'http_request_duration_seconds_count',
      'http_request_duration_seconds_bucket',
      'db_client_connections',
      'db_client_connections_pending_requests',
      'db_client_connections_wait_time_seconds_bucket',
      'circuit_breaker_state',
      'queue_depth_messages',
      'nodejs_eventloop_utilization_ratio',
    ]) {
      expect(used, m).toContain(m)
    }
    const p99 = dashboardQueries().find((q) => q.expr.includes('http_request_duration_seconds_bucket'))!
    expect(p99.expr).toMatch(/histogram_quantile\(0\.99,/)
    expect(readPromql(p99.expr).byLabels).toContain('route')
  })

  it.each([
    [
      'a misspelt metric',
      'rate(http_request_duration_second_count[5m])',
      /http_request_duration_second_count is not a contract metric/,
    ],
    [
      'the bare name of a histogram',
      'sum(http_request_duration_seconds)',
      /http_request_duration_seconds is not a contract metric/,
    ],
    [
      'a label the metric does not have',
      'queue_depth_messages{stream="ORDERS"}',
      /label stream is not a label of queue_depth_messages/,
    ],
    ['a grouping by a missing label', 'sum by (pool) (db_client_connections)', /label pool is not a label/],
  ])('flags %s', (_what, expr, message) => {
    expect(queryProblems({ where: 'q', expr }).join('\n')).toMatch(message)
  })

  it('flags a legend or annotation reading a label the aggregation dropped', () => {
    const q = {
      where: 'q',
      expr: 'sum by (job) (rate(http_requests_shed_total[5m]))',
      templateLabels: ['reason'],
    }
    expect(queryProblems(q)).toEqual(['q: the template reads label reason, which the query does not keep'])
    expect(queryProblems({ ...q, templateLabels: ['job'] })).toEqual([])
  })

  it('reads metric and label names through functions, matchers, ranges, templates and numbers', () => {
    expect(
      readPromql(
        'histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket{route!~"/admin.*",job="a"}[$__rate_interval] offset 5m))) > 1e-3 and on (job) up == bool 1',
      ),
    ).toEqual({
      metrics: ['http_request_duration_seconds_bucket', 'up'],
      labels: ['job', 'le', 'route'],
      byLabels: ['job', 'le'],
    })
    expect(
      readPromql('max by (a) (<<.Series>>{<<.LabelMatchers>>})', 'queue_depth_messages').metrics,
    ).toEqual(['queue_depth_messages'])
    expect(readPromql('{__name__="nats_messages_total",outcome="ack"}').metrics).toEqual([
      'nats_messages_total',
    ])
  })
})

// The service-side families (http_*, jetstream_*, queue_depth_messages, nats_*) come from @goreliable/fastify
// and @goreliable/nats; when those land, a test like this one should check their exports too.
describe('the contract matches what @goreliable/core exports', () => {
  it('breaker, pool and runtime metric families have the contract names, types and labels', async () => {
    const registry = new Registry()
    const breaker = createBreaker(async () => 'ok', { name: 'orders', registry })
    const pool = createPoolMetrics({
      name: 'orders',
      registry,
      read: () => ({ idle: 1, used: 1, pending: 0, max: 10 }),
    })
    registerRuntimeMetrics(registry)
    try {
      await breaker.fire()
      pool.observeWait(0.001)
      pool.observeUse(0.002)
      const exported = new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, m]))
      const coreFamilies = Object.keys(CONTRACT_METRICS).filter(
        (n) =>
          n.startsWith('circuit_breaker_') ||
          n.startsWith('db_client_connections') ||
          n.startsWith('nodejs_'),
      ) as ContractMetric[]
      expect(coreFamilies).toHaveLength(10)
      for (const name of coreFamilies) {
        const m = exported.get(name)
        expect(m, `core exports ${name}`).toBeDefined()
        expect(String(m!.type), `${name} type`).toBe(CONTRACT_METRICS[name].type)
        const labels = new Set(m!.values.flatMap((v) => Object.keys(v.labels)).filter((l) => l !== 'le'))
        for (const l of labels)
          expect(CONTRACT_METRICS[name].labels as readonly string[], `${name} label ${l}`).toContain(l)
      }
    } finally {
      breaker.shutdown()
      pool.close()
    }
  })
})
