// Documents of kinds outside core Kubernetes: KEDA (schema-checked too, in kubernetes.test.ts), the
// Prometheus Adapter's rules, the PodMonitor, and Chaos Mesh (no published schema: checked by hand here).
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { build, mutate } from './support/builds.js'
import { chaosProblems, targetOf } from './support/chaos-mesh.js'
import { JETSTREAM, SERVICES } from './support/contract.js'
import { podSpec } from './support/kustomize.js'
import type { Doc } from './support/yaml-docs.js'

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped
type Obj = any

const find = (docs: Doc[], kind: string, name?: string) => {
  const d = docs.find((x) => x.obj.kind === kind && (name === undefined || x.obj.metadata?.name === name))
  if (!d) throw new Error(`no ${kind} ${name ?? ''}`)
  return d
}

describe('KEDA ScaledObject (overlays/keda)', () => {
  const keda = () => build('keda').docs
  const scaled = () => find(keda(), 'ScaledObject', 'notification-worker').obj

  it('scales the worker Deployment from 1 to 8', () => {
    const so = scaled()
    expect(so.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'notification-worker' })
    find(keda(), 'Deployment', so.spec.scaleTargetRef.name)
    expect([so.spec.minReplicaCount, so.spec.maxReplicaCount]).toEqual([1, 8])
  })

  it('reads the lag of the consumer the worker uses, from the NATS monitoring endpoint of the stack', () => {
    const docs = keda()
    const trigger = scaled().spec.triggers.find((t: { type: string }) => t.type === 'nats-jetstream')
    expect(trigger, 'a nats-jetstream trigger').toBeDefined()
    const m = trigger.metadata
    for (const field of ['natsServerMonitoringEndpoint', 'account', 'stream', 'consumer', 'lagThreshold']) {
      expect(typeof m[field], `metadata.${field}`).toBe('string')
    }
    expect([m.stream, m.consumer]).toEqual([JETSTREAM.stream, JETSTREAM.consumer])
    expect(Number(m.lagThreshold)).toBeGreaterThan(0)
    // host:port of the nats Service's monitoring port, in the namespace the overlay deploys to.
    const [host, port] = m.natsServerMonitoringEndpoint.split(':')
    const nats = find(docs, 'Service', 'nats').obj
    expect(host).toBe(`nats.${nats.metadata.namespace}.svc.cluster.local`)
    expect(nats.spec.ports.map((p: { port: number }) => p.port)).toContain(Number(port))
    const server = find(docs, 'StatefulSet', 'nats').obj
    expect(podSpec(server).containers[0].args.join(' ')).toContain(`-m ${port}`)
  })

  it('has a prometheus trigger on queue_depth_messages of the same consumer', () => {
    const trigger = scaled().spec.triggers.find((t: { type: string }) => t.type === 'prometheus')
    expect(trigger.metadata.serverAddress).toMatch(/^https?:\/\//)
    expect(Number(trigger.metadata.threshold)).toBeGreaterThan(0)
    expect(trigger.metadata.query).toContain('queue_depth_messages{')
    expect(trigger.metadata.query).toContain(`stream_name="${JETSTREAM.stream}"`)
    expect(trigger.metadata.query).toContain(`consumer_name="${JETSTREAM.consumer}"`)
  })

  it('every trigger carries a type and string metadata, as KEDA requires', () => {
    for (const t of scaled().spec.triggers) {
      expect(typeof t.type).toBe('string')
      for (const v of Object.values(t.metadata)) expect(typeof v).toBe('string')
    }
  })
})

describe('Prometheus Adapter rules (monitoring/prometheus-adapter.yaml)', () => {
  const config = () =>
    parse(
      find(build('monitoring').docs, 'ConfigMap', 'goreliable-prometheus-adapter').obj.data['config.yaml'],
    )

  it('serves the external metric the worker HPA asks for', () => {
    const hpa = find(build('base').docs, 'HorizontalPodAutoscaler', 'notification-worker').obj
    const wanted = hpa.spec.metrics[0].external.metric.name
    const rules = config().externalRules as { name: { matches: string; as?: string }; seriesQuery: string }[]
    const serving = rules.filter((r) => (r.name.as ?? r.seriesQuery.match(/^\w+/)?.[0]) === wanted)
    expect(serving).toHaveLength(1)
  })

  it('each rule has the fields the adapter requires, with the selector and namespace passed through', () => {
    for (const r of config().externalRules) {
      expect(typeof r.seriesQuery).toBe('string')
      expect(typeof r.metricsQuery).toBe('string')
      expect(typeof r.name.matches).toBe('string')
      expect(() => new RegExp(r.name.matches)).not.toThrow()
      expect(r.resources.overrides.namespace.resource).toBe('namespace')
      expect(r.metricsQuery).toContain('<<.Series>>{<<.LabelMatchers>>}')
      // The series' name must match the rule's `matches`, or the adapter serves nothing.
      expect(r.seriesQuery.match(/^\w+/)[0]).toMatch(new RegExp(r.name.matches))
    }
  })

  it('takes the max across worker pods, which all report the same backlog', () => {
    expect(config().externalRules[0].metricsQuery).toMatch(/^max by \(stream_name, consumer_name\)/)
  })
})

describe('PodMonitor (monitoring/podmonitor.yaml)', () => {
  it('scrapes the admin port of the stack pods, with job = the service name', () => {
    const pm = find(build('monitoring').docs, 'PodMonitor').obj
    const base = build('base').docs
    expect(pm.spec.jobLabel).toBe('app.kubernetes.io/name')
    expect(pm.spec.namespaceSelector.matchNames).toEqual(['goreliable-example'])
    const endpoint = pm.spec.podMetricsEndpoints[0]
    expect(endpoint).toMatchObject({ port: 'admin', path: '/metrics' })
    // Every service with an admin port is selected, and its pods name the port `admin`.
    for (const [name, s] of Object.entries(SERVICES)) {
      const d = find(base, 'Deployment', name).obj
      const labels = d.spec.template.metadata.labels
      const selected = Object.entries(pm.spec.selector.matchLabels).every(([k, v]) => labels[k] === v)
      const admin = podSpec(d).containers[0].ports.some((p: { name: string }) => p.name === 'admin')
      expect(selected && admin, name).toBe(s.adminPort !== undefined)
      expect(labels['app.kubernetes.io/name']).toBe(name)
    }
  })
})

describe('Chaos Mesh experiments (chaos/)', () => {
  const chaos = () => build('chaos').docs
  const workloads = () => build('base').docs.filter((d) => podSpec(d.obj))
  const experiment = (kind: string) => find(chaos(), kind).obj

  it('every experiment has the fields its kind requires and targets pods that exist', () => {
    const docs = chaos()
    expect(docs.map((d) => d.obj.kind).sort()).toEqual(['NetworkChaos', 'PodChaos', 'StressChaos'])
    expect(docs.flatMap((d) => chaosProblems(d, workloads()))).toEqual([])
  })

  it('PodChaos fails one order-service pod', () => {
    const e = experiment('PodChaos')
    expect([e.spec.action, e.spec.mode]).toEqual(['pod-failure', 'one'])
    expect(targetOf(e.spec.selector, workloads())).toEqual(['order-service'])
  })

  it('NetworkChaos partitions order-service from postgres', () => {
    const e = experiment('NetworkChaos')
    expect([e.spec.action, e.spec.direction]).toEqual(['partition', 'to'])
    expect(targetOf(e.spec.selector, workloads())).toEqual(['order-service'])
    expect(targetOf(e.spec.target.selector, workloads())).toEqual(['postgres'])
  })

  it('StressChaos loads the worker CPU to 80%', () => {
    const e = experiment('StressChaos')
    expect(e.spec.stressors.cpu.load).toBe(80)
    expect(targetOf(e.spec.selector, workloads())).toEqual(['notification-worker'])
  })

  it.each([
    [
      'an unknown action',
      'PodChaos',
      (o: Obj) => {
        o.spec.action = 'pod-fail'
      },
      /action must be one of/,
    ],
    [
      'a missing mode',
      'PodChaos',
      (o: Obj) => {
        delete o.spec.mode
      },
      /mode must be one of/,
    ],
    [
      'a selector matching nothing',
      'NetworkChaos',
      (o: Obj) => {
        o.spec.target.selector.labelSelectors['app.kubernetes.io/name'] = 'postgresql'
      },
      /spec\.target\.selector matches no workload/,
    ],
    [
      'a partition without a target',
      'NetworkChaos',
      (o: Obj) => {
        delete o.spec.target
      },
      /a partition needs a target/,
    ],
    [
      'a load over 100%',
      'StressChaos',
      (o: Obj) => {
        o.spec.stressors.cpu.load = 180
      },
      /load must be 0 to 100/,
    ],
    [
      'a malformed duration',
      'StressChaos',
      (o: Obj) => {
        o.spec.duration = '5 minutes'
      },
      /not a Go duration/,
    ],
  ])('catches %s', (_what, kind, change, message) => {
    const docs = chaos()
    const name = find(docs, kind).obj.metadata.name
    const broken = mutate(docs, kind, name, change)
    expect(broken.flatMap((d) => chaosProblems(d, workloads())).join('\n')).toMatch(message)
  })
})
