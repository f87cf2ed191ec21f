import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { build, KUSTOMIZATIONS, mutate } from './support/builds.js'
import { kubeProblems, millicores } from './support/kube-checks.js'
import { kustomize, podSpec } from './support/kustomize.js'
import { hasModel, validateModel } from './support/models.js'
import { filesUnder, K8S_DIR, RULES_DIR, rel } from './support/paths.js'
import { type Doc, id } from './support/yaml-docs.js'

/** Schema errors of every document that has a model, as messages. */
function schemaProblems(docs: Doc[]): string[] {
  const problems: string[] = []
  for (const d of docs) {
    if (d.obj.apiVersion === 'chaos-mesh.org/v1alpha1') continue // crds.test.ts checks these by hand
    try {
      validateModel(d.obj)
    } catch (err) {
      problems.push(`${id(d)}: ${(err as Error).message}`)
    }
  }
  return problems
}

const key = (d: Doc) =>
  `${d.obj.apiVersion} ${d.obj.kind} ${d.obj.metadata?.namespace ?? ''}/${d.obj.metadata?.name}`

describe('kustomizations', () => {
  it('every YAML file under examples/k8s is a kustomization, a resource one lists, or a Prometheus rules file', () => {
    const used = new Set<string>()
    for (const dir of Object.values(KUSTOMIZATIONS)) for (const f of kustomize(dir).files) used.add(f)
    const orphans = filesUnder(K8S_DIR, (n) => /\.ya?ml$/.test(n))
      .filter((f) => !used.has(f) && !f.startsWith(`${RULES_DIR}/`))
      .map(rel)
    expect(orphans).toEqual([])
  })

  it('`kubectl apply -k examples/k8s` applies exactly the base', () => {
    expect(build('top').docs.map(key)).toEqual(build('base').docs.map(key))
  })

  it('the base holds the four services, their Services, HPAs and the PodDisruptionBudget, in one namespace', () => {
    const docs = build('base').docs
    const names = (kind: string) => docs.filter((d) => d.obj.kind === kind).map((d) => d.obj.metadata.name)
    expect(names('Deployment').sort()).toEqual([
      'email-provider',
      'gateway',
      'notification-worker',
      'order-service',
    ])
    expect(names('StatefulSet').sort()).toEqual(['nats', 'postgres'])
    expect(names('HorizontalPodAutoscaler').sort()).toEqual([
      'gateway',
      'notification-worker',
      'order-service',
    ])
    expect(names('PodDisruptionBudget')).toEqual(['order-service'])
    const namespaces = new Set(
      docs.filter((d) => d.obj.kind !== 'Namespace').map((d) => d.obj.metadata.namespace),
    )
    expect([...namespaces]).toEqual(['goreliable-example'])
    expect(names('Namespace')).toEqual(['goreliable-example'])
  })

  it('the KEDA overlay replaces the worker HPA with a ScaledObject and keeps the rest of the base', () => {
    const base = build('base').docs.map(key)
    const keda = build('keda').docs.map(key)
    const workerHpa = 'autoscaling/v2 HorizontalPodAutoscaler goreliable-example/notification-worker'
    expect(base).toContain(workerHpa)
    expect(keda).not.toContain(workerHpa)
    expect(keda.filter((k) => !base.includes(k))).toEqual([
      'keda.sh/v1alpha1 ScaledObject goreliable-example/notification-worker',
    ])
    expect(base.filter((k) => !keda.includes(k))).toEqual([workerHpa])
  })

  it('rejects what it does not understand, and a resource that does not exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kustomize-'))
    try {
      const write = (text: string) => writeFileSync(join(dir, 'kustomization.yaml'), text)
      const head = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n'
      write(`${head}configMapGenerator:\n  - name: x\n    literals: [a=b]\n`)
      expect(() => kustomize(dir)).toThrow(/"configMapGenerator" is not supported/)
      write(`${head}resources:\n  - missing.yaml\n`)
      expect(() => kustomize(dir)).toThrow(/resource missing\.yaml does not exist/)
      write(`${head}resources:\n  - ..\n`)
      expect(() => kustomize(dir)).toThrow(/has no kustomization\.yaml|cycle/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    expect(() => kustomize(RULES_DIR)).toThrow(/has no kustomization\.yaml/)
  })

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0
  if (!kubectl) console.warn('kubectl not found: skipping the comparison with `kubectl kustomize`')
  it.skipIf(!kubectl)('builds the same objects as `kubectl kustomize`, where kubectl is installed', () => {
    for (const [name, dir] of Object.entries(KUSTOMIZATIONS)) {
      const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })
      expect(r.status, `${name}: ${r.stderr}`).toBe(0)
      const real = r.stdout
        .split(/^---$/m)
        .map((t) => parse(t))
        .filter(Boolean)
        .map((obj) => key({ file: '', index: 0, obj }))
        .sort()
      expect(kustomize(dir).docs.map(key).sort(), name).toEqual(real)
    }
  })
})

describe('Kubernetes schemas (kubernetes-models, offline)', () => {
  it.each(['base', 'keda', 'monitoring'] as const)(
    'every document of %s validates against its kind',
    (name) => {
      const docs = build(name).docs
      expect(docs.filter((d) => !hasModel(d.obj)).map(id)).toEqual([])
      expect(schemaProblems(docs)).toEqual([])
    },
  )

  it('a document that breaks its schema fails', () => {
    const docs = build('base').docs
    const wrongType = mutate(docs, 'Deployment', 'gateway', (o) => {
      o.spec.template.spec.containers[0].ports[0].containerPort = 'eighty'
    })
    expect(schemaProblems(wrongType).join('\n')).toMatch(/Deployment\/gateway.*containerPort must be integer/)
    const missingField = mutate(docs, 'Service', 'order-service', (o) => {
      delete o.spec.ports[0].port
    })
    expect(schemaProblems(missingField).join('\n')).toMatch(
      /Service\/order-service.*must have required property port/,
    )
    const badHpa = mutate(docs, 'HorizontalPodAutoscaler', 'notification-worker', (o) => {
      o.spec.metrics[0].external.target.averageValue = { value: 100 }
    })
    expect(schemaProblems(badHpa).join('\n')).toMatch(/HorizontalPodAutoscaler\/notification-worker/)
    expect(() => validateModel({ apiVersion: 'apps/v1beta1', kind: 'Deployment' })).toThrow(/no schema model/)
  })
})

describe('cross-references the schemas cannot see', () => {
  it.each(['base', 'keda'] as const)(
    '%s: probes, ports, env, selectors, budgets and autoscalers agree',
    (name) => {
      expect(kubeProblems(build(name).docs)).toEqual([])
    },
  )

  it('the values the contract asks for are the ones in the manifests', () => {
    const docs = build('base').docs
    const deployment = (n: string) =>
      docs.find((d) => d.obj.kind === 'Deployment' && d.obj.metadata.name === n)!.obj
    expect(millicores(podSpec(deployment('gateway')).containers[0].resources.limits.cpu)).toBe(1000)
    // One image for the four services, named as the kustomization's `images` entry rewrites it.
    const images = ['gateway', 'order-service', 'notification-worker', 'email-provider'].map(
      (n) => podSpec(deployment(n)).containers[0].image,
    )
    expect(new Set(images)).toEqual(new Set(['goreliable-example:dev']))
    expect(deployment('order-service').spec.replicas).toBe(2)
    expect(deployment('order-service').spec.strategy.rollingUpdate.maxUnavailable).toBe(0)
    for (const n of ['gateway', 'order-service', 'notification-worker']) {
      const c = podSpec(deployment(n)).containers[0]
      expect([
        c.startupProbe.httpGet.path,
        c.readinessProbe.httpGet.path,
        c.livenessProbe.httpGet.path,
      ]).toEqual(['/startupz', '/readyz', '/livez'])
    }
  })

  const base = () => build('base').docs
  const container = (o: { spec: { template: { spec: { containers: unknown[] } } } }) =>
    // biome-ignore lint/suspicious/noExplicitAny: manifests are untyped
    o.spec.template.spec.containers[0] as any
  it.each([
    [
      'a readiness probe on the wrong path',
      () =>
        mutate(base(), 'Deployment', 'order-service', (o) => {
          container(o).readinessProbe.httpGet.path = '/healthz'
        }),
      /order-service.*readinessProbe must GET \/readyz/,
    ],
    [
      'an admin port that differs from ADMIN_PORT',
      () =>
        mutate(base(), 'Deployment', 'gateway', (o) => {
          container(o).ports[1].containerPort = 9999
        }),
      /gateway.*containerPort "admin" must be 9464/,
    ],
    [
      'a misspelt variable',
      () =>
        mutate(base(), 'Deployment', 'order-service', (o) => {
          container(o).env.find((e: { name: string }) => e.name === 'DATABASE_URL').name = 'DATABSE_URL'
        }),
      /env DATABSE_URL is not a variable the services read/,
    ],
    [
      'a service listening on loopback only',
      () =>
        mutate(base(), 'Deployment', 'notification-worker', (o) => {
          container(o).env.find((e: { name: string }) => e.name === 'HOST').value = '127.0.0.1'
        }),
      /notification-worker.*HOST must be 0\.0\.0\.0/,
    ],
    [
      'an email-provider probe off its health path',
      () =>
        mutate(base(), 'Deployment', 'email-provider', (o) => {
          container(o).livenessProbe.httpGet.path = '/'
        }),
      /email-provider.*livenessProbe must GET \/control/,
    ],
    [
      'a Secret key that does not exist',
      () =>
        mutate(base(), 'Secret', 'goreliable-example', (o) => {
          delete o.stringData.JWT_SECRET
        }),
      /env JWT_SECRET reads Secret goreliable-example key JWT_SECRET, which is missing/,
    ],
    [
      'a URL pointing at no Service',
      () =>
        mutate(base(), 'ConfigMap', 'goreliable-example', (o) => {
          o.data.NATS_URL = 'nats://nats-server:4222'
        }),
      /NATS_URL: host must be the Service nats/,
    ],
    [
      'a grace period shorter than drain + shutdown',
      () =>
        mutate(base(), 'Deployment', 'notification-worker', (o) => {
          o.spec.template.spec.terminationGracePeriodSeconds = 10
        }),
      /terminationGracePeriodSeconds 10 must exceed 15 s/,
    ],
    [
      'a Service targeting a port its pods do not have',
      () =>
        mutate(base(), 'Service', 'gateway', (o) => {
          o.spec.ports[0].targetPort = 'web'
        }),
      /Service\/gateway.*targets web/,
    ],
    [
      'a PodDisruptionBudget that blocks every drain',
      () =>
        mutate(base(), 'PodDisruptionBudget', 'order-service', (o) => {
          o.spec.minAvailable = 2
        }),
      /minAvailable must be at least 1 and below the replica count/,
    ],
    [
      'an HPA scaling a Deployment that does not exist',
      () =>
        mutate(base(), 'HorizontalPodAutoscaler', 'gateway', (o) => {
          o.spec.scaleTargetRef.name = 'api-gateway'
        }),
      /scales Deployment\/api-gateway, which does not exist/,
    ],
    [
      'the worker HPA on another consumer',
      () =>
        mutate(base(), 'HorizontalPodAutoscaler', 'notification-worker', (o) => {
          o.spec.metrics[0].external.metric.selector.matchLabels.consumer_name = 'worker'
        }),
      /selector must be stream_name=ORDERS, consumer_name=notification-worker/,
    ],
    [
      'a gateway CPU limit other than 1000m',
      () =>
        mutate(base(), 'Deployment', 'gateway', (o) => {
          container(o).resources.limits.cpu = '2'
        }),
      /the CPU limit must be 1000m/,
    ],
    [
      'order-service rolling out with a pod down',
      () =>
        mutate(base(), 'Deployment', 'order-service', (o) => {
          o.spec.strategy.rollingUpdate.maxUnavailable = 1
        }),
      /maxUnavailable: 0/,
    ],
    [
      'a service started with the wrong entry point',
      () =>
        mutate(base(), 'Deployment', 'email-provider', (o) => {
          container(o).args = ['examples/email-provider/src/main.ts']
        }),
      /email-provider.*args must be \["examples\/email-provider\/dist\/main\.js"\]/,
    ],
  ])('catches %s', (_what, broken, message) => {
    expect(kubeProblems(broken()).join('\n')).toMatch(message)
  })
})
