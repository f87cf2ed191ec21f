import {
  ADMIN_PATHS,
  EMAIL_PROVIDER_HEALTH_PATH,
  entryPoint,
  JETSTREAM,
  LISTEN_HOST,
  SERVICE_ENV,
  SERVICE_NAMES,
  SERVICES,
  SHUTDOWN,
  URL_ENV,
} from './contract.js'
import { podSpec } from './kustomize.js'
import { type Doc, id } from './yaml-docs.js'

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped
type Obj = any

/** CPU quantity in millicores: "1000m", "1", "0.5". */
export function millicores(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined
  const s = String(q)
  return s.endsWith('m') ? Number(s.slice(0, -1)) : Number(s) * 1000
}

const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v)

/** The value of each variable of a container, resolved through its ConfigMap and Secret references. */
export function resolvedEnv(container: Obj, docs: Doc[]): Map<string, string | undefined> {
  const env = new Map<string, string | undefined>()
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef
    if (!ref) {
      env.set(e.name, e.value)
      continue
    }
    const kind = e.valueFrom.configMapKeyRef ? 'ConfigMap' : 'Secret'
    const source = docs.find((d) => d.obj.kind === kind && d.obj.metadata?.name === ref.name)?.obj
    env.set(e.name, source?.data?.[ref.key] ?? source?.stringData?.[ref.key])
  }
  return env
}

/**
 * Cross-references inside one kustomize build: the things a schema cannot see and a cluster would only
 * show at run time (a probe on the wrong port, a Service selecting nothing, an env var naming a missing
 * Secret key). Returns one message per problem; an empty list is a pass.
 */
export function kubeProblems(docs: Doc[]): string[] {
  const problems: string[] = []
  const of = (kind: string) => docs.filter((d) => d.obj.kind === kind)
  const workloads = [...of('Deployment'), ...of('StatefulSet')]

  for (const w of workloads) {
    const selector = w.obj.spec?.selector?.matchLabels ?? {}
    if (Object.keys(selector).length === 0) problems.push(`${id(w)}: no selector.matchLabels`)
    if (!matches(selector, w.obj.spec?.template?.metadata?.labels)) {
      problems.push(`${id(w)}: selector does not match the pod template's labels`)
    }
    for (const c of podSpec(w.obj)?.containers ?? []) {
      for (const kind of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory']) {
          if (c.resources?.[kind]?.[resource] === undefined) {
            problems.push(`${id(w)}: container ${c.name} has no ${kind}.${resource}`)
          }
        }
      }
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef
        if (!ref) continue
        const kind = e.valueFrom.configMapKeyRef ? 'ConfigMap' : 'Secret'
        const source = of(kind).find((d) => d.obj.metadata?.name === ref.name)?.obj
        const value = source?.data?.[ref.key] ?? source?.stringData?.[ref.key]
        if (value === undefined)
          problems.push(`${id(w)}: env ${e.name} reads ${kind} ${ref.name} key ${ref.key}, which is missing`)
      }
    }
  }

  for (const name of SERVICE_NAMES) problems.push(...serviceProblems(name, docs))

  // Services select a workload and target ports it has.
  for (const s of of('Service')) {
    const selector = s.obj.spec?.selector ?? {}
    const target = workloads.find((w) => matches(selector, w.obj.spec?.template?.metadata?.labels))
    if (Object.keys(selector).length === 0 || !target) {
      problems.push(`${id(s)}: its selector matches no workload`)
      continue
    }
    const ports = (podSpec(target.obj).containers ?? []).flatMap((c: Obj) => c.ports ?? [])
    for (const p of s.obj.spec?.ports ?? []) {
      const t = p.targetPort ?? p.port
      if (!ports.some((cp: Obj) => (typeof t === 'string' ? cp.name === t : cp.containerPort === t))) {
        problems.push(`${id(s)}: port ${p.name ?? p.port} targets ${t}, which ${id(target)} does not expose`)
      }
    }
  }

  // HPAs scale a Deployment that exists, one HPA per Deployment.
  const hpaTargets = new Set<string>()
  for (const h of of('HorizontalPodAutoscaler')) {
    const ref = h.obj.spec?.scaleTargetRef ?? {}
    if (!workloads.some((w) => w.obj.kind === ref.kind && w.obj.metadata?.name === ref.name)) {
      problems.push(`${id(h)}: scales ${ref.kind}/${ref.name}, which does not exist`)
    }
    if (hpaTargets.has(ref.name)) problems.push(`${id(h)}: a second HPA for ${ref.name}`)
    hpaTargets.add(ref.name)
    if (!(h.obj.spec?.minReplicas >= 1 && h.obj.spec.minReplicas <= h.obj.spec.maxReplicas)) {
      problems.push(`${id(h)}: needs 1 <= minReplicas <= maxReplicas`)
    }
  }
  return problems
}

function serviceProblems(name: (typeof SERVICE_NAMES)[number], docs: Doc[]): string[] {
  const problems: string[] = []
  const contract = SERVICES[name]
  const d = docs.find((x) => x.obj.kind === 'Deployment' && x.obj.metadata?.name === name)
  if (!d) return [`no Deployment ${name}`]
  const at = id(d)
  const spec = podSpec(d.obj)
  const containers = spec?.containers ?? []
  if (containers.length !== 1) return [`${at}: expected one container, found ${containers.length}`]
  const c = containers[0]
  if (JSON.stringify(c.args) !== JSON.stringify([entryPoint(name)]) || c.command !== undefined) {
    problems.push(`${at}: args must be ["${entryPoint(name)}"] (the image's entry point is node)`)
  }

  const env = resolvedEnv(c, docs)
  for (const v of env.keys()) {
    if (!(SERVICE_ENV as readonly string[]).includes(v))
      problems.push(`${at}: env ${v} is not a variable the services read`)
  }
  for (const v of contract.env) if (!env.has(v)) problems.push(`${at}: env ${v} is missing`)
  if (env.get('HOST') !== LISTEN_HOST)
    problems.push(`${at}: HOST must be ${LISTEN_HOST}, or probes and Services cannot connect`)
  const port = (portName: string) => c.ports?.find((p: Obj) => p.name === portName)?.containerPort
  if (contract.port !== undefined) {
    if (port('http') !== contract.port) problems.push(`${at}: containerPort "http" must be ${contract.port}`)
    if (env.get('PORT') !== String(contract.port)) problems.push(`${at}: PORT must be "${contract.port}"`)
  }
  for (const [v, target] of Object.entries(URL_ENV)) {
    const value = env.get(v)
    if (value === undefined) continue
    for (const url of value.split(',')) problems.push(...urlProblems(`${at}: ${v}`, url, target, docs))
  }

  const probes = { startup: c.startupProbe, readiness: c.readinessProbe, liveness: c.livenessProbe }
  if (contract.adminPort !== undefined) {
    if (port('admin') !== contract.adminPort)
      problems.push(`${at}: containerPort "admin" must be ${contract.adminPort}`)
    if (env.get('ADMIN_PORT') !== String(contract.adminPort)) {
      problems.push(`${at}: ADMIN_PORT must be "${contract.adminPort}"`)
    }
    for (const [kind, probe] of Object.entries(probes) as [keyof typeof probes, Obj][]) {
      const get = probe?.httpGet
      if (get?.path !== ADMIN_PATHS[kind] || !(get.port === 'admin' || get.port === contract.adminPort)) {
        problems.push(`${at}: ${kind}Probe must GET ${ADMIN_PATHS[kind]} on the admin port`)
      }
    }
    const annotations = d.obj.spec.template.metadata?.annotations ?? {}
    if (annotations['prometheus.io/port'] !== String(contract.adminPort)) {
      problems.push(`${at}: annotation prometheus.io/port must be "${contract.adminPort}"`)
    }
    if (annotations['prometheus.io/path'] !== ADMIN_PATHS.metrics) {
      problems.push(`${at}: annotation prometheus.io/path must be ${ADMIN_PATHS.metrics}`)
    }
  } else {
    for (const [kind, probe] of Object.entries(probes) as [string, Obj][]) {
      const get = probe?.httpGet
      if (get?.path !== EMAIL_PROVIDER_HEALTH_PATH || !(get.port === 'http' || get.port === contract.port)) {
        problems.push(`${at}: ${kind}Probe must GET ${EMAIL_PROVIDER_HEALTH_PATH} on the http port`)
      }
    }
  }

  // The kubelet sends SIGKILL after the grace period: it must outlast drain + shutdown, with some margin.
  const budget = SHUTDOWN.drainSeconds + SHUTDOWN.shutdownTimeoutSeconds
  const grace = spec.terminationGracePeriodSeconds
  if (!(grace > budget && grace <= budget + 15)) {
    problems.push(
      `${at}: terminationGracePeriodSeconds ${grace} must exceed ${budget} s (drain + shutdown) by 1 to 15 s`,
    )
  }

  if (name === 'gateway' && millicores(c.resources?.limits?.cpu) !== 1000) {
    problems.push(`${at}: the CPU limit must be 1000m`)
  }
  if (name === 'order-service') problems.push(...orderServiceProblems(d, docs))
  problems.push(...hpaProblems(name, docs))
  return problems
}

function urlProblems(
  at: string,
  raw: string,
  target: { service: string; port: number },
  docs: Doc[],
): string[] {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    return [`${at}: "${raw}" is not a URL`]
  }
  const service = docs.find((d) => d.obj.kind === 'Service' && d.obj.metadata?.name === url.hostname)
  if (url.hostname !== target.service || !service)
    return [`${at}: host must be the Service ${target.service}`]
  if (Number(url.port) !== target.port || !service.obj.spec.ports.some((p: Obj) => p.port === target.port)) {
    return [`${at}: port must be ${target.port}, a port of Service ${target.service}`]
  }
  return []
}

function orderServiceProblems(d: Doc, docs: Doc[]): string[] {
  const problems: string[] = []
  const at = id(d)
  if (d.obj.spec.replicas !== 2) problems.push(`${at}: replicas must be 2`)
  const rolling = d.obj.spec.strategy
  if (rolling?.type !== 'RollingUpdate' || rolling.rollingUpdate?.maxUnavailable !== 0) {
    problems.push(`${at}: strategy must be RollingUpdate with maxUnavailable: 0`)
  }
  const labels = d.obj.spec.template.metadata?.labels
  const pdb = docs.find((x) => {
    const selector = x.obj.spec?.selector?.matchLabels ?? {}
    return (
      x.obj.kind === 'PodDisruptionBudget' && Object.keys(selector).length > 0 && matches(selector, labels)
    )
  })
  if (!pdb) problems.push(`${at}: no PodDisruptionBudget selects its pods`)
  else if (!(pdb.obj.spec.minAvailable >= 1 && pdb.obj.spec.minAvailable < d.obj.spec.replicas)) {
    problems.push(
      `${id(pdb)}: minAvailable must be at least 1 and below the replica count, or no drain can proceed`,
    )
  }
  return problems
}

function hpaProblems(name: string, docs: Doc[]): string[] {
  const hpa = docs.find(
    (x) => x.obj.kind === 'HorizontalPodAutoscaler' && x.obj.spec?.scaleTargetRef?.name === name,
  )
  const scaled = docs.find((x) => x.obj.kind === 'ScaledObject' && x.obj.spec?.scaleTargetRef?.name === name)
  if (name === 'email-provider')
    return hpa ? [`${id(hpa)}: the email provider keeps state in memory; do not scale it`] : []
  if (name === 'notification-worker') {
    if (hpa && scaled) return [`${id(hpa)} and ${id(scaled)} both scale ${name}: they would fight`]
    if (scaled) return [] // checked by the KEDA checks
    if (!hpa) return [`no HPA or ScaledObject scales ${name}`]
    const s = hpa.obj.spec
    const m = s.metrics?.[0]
    const problems: string[] = []
    if (s.minReplicas !== 1 || s.maxReplicas !== 8) problems.push(`${id(hpa)}: must scale 1 to 8`)
    if (
      s.metrics?.length !== 1 ||
      m?.type !== 'External' ||
      m.external?.metric?.name !== 'queue_depth_messages' ||
      m.external?.target?.type !== 'AverageValue'
    ) {
      problems.push(
        `${id(hpa)}: must scale on the External metric queue_depth_messages with an AverageValue target`,
      )
    }
    const selector = m?.external?.metric?.selector?.matchLabels ?? {}
    if (selector.stream_name !== JETSTREAM.stream || selector.consumer_name !== JETSTREAM.consumer) {
      problems.push(
        `${id(hpa)}: selector must be stream_name=${JETSTREAM.stream}, consumer_name=${JETSTREAM.consumer}`,
      )
    }
    return problems
  }
  if (!hpa) return [`no HPA scales ${name}`]
  const cpu = hpa.obj.spec.metrics?.find((m: Obj) => m.type === 'Resource' && m.resource?.name === 'cpu')
  if (cpu?.resource?.target?.type !== 'Utilization' || cpu.resource.target.averageUtilization !== 70) {
    return [`${id(hpa)}: must target 70% average CPU utilization`]
  }
  const deployment = docs.find((x) => x.obj.kind === 'Deployment' && x.obj.metadata?.name === name)
  if (deployment && hpa.obj.spec.minReplicas < (deployment.obj.spec.replicas ?? 1)) {
    return [`${id(hpa)}: minReplicas is below the Deployment's replicas`]
  }
  return []
}
