import { podSpec } from './kustomize.js'
import { type Doc, id } from './yaml-docs.js'

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped
type Obj = any

// Chaos Mesh 2.x (chaos-mesh.org/v1alpha1) publishes CRDs but no JavaScript models: these are the fields its
// CRDs require and the values they accept, for the three kinds the examples use.
const MODES = ['one', 'all', 'fixed', 'fixed-percent', 'random-max-percent']
const ACTIONS: Record<string, string[]> = {
  PodChaos: ['pod-kill', 'pod-failure', 'container-kill'],
  NetworkChaos: ['netem', 'delay', 'loss', 'duplicate', 'corrupt', 'partition', 'bandwidth'],
}
const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/

/** Problems of one Chaos Mesh document, checked against the workloads of the build it targets. */
export function chaosProblems(doc: Doc, workloads: Doc[]): string[] {
  const o = doc.obj
  const at = id(doc)
  const problems: string[] = []
  if (o.apiVersion !== 'chaos-mesh.org/v1alpha1')
    problems.push(`${at}: apiVersion must be chaos-mesh.org/v1alpha1`)
  if (!o.metadata?.name) problems.push(`${at}: metadata.name is required`)
  const spec = o.spec ?? {}
  if (o.kind in ACTIONS && !ACTIONS[o.kind]!.includes(spec.action)) {
    problems.push(`${at}: action must be one of ${ACTIONS[o.kind]!.join(', ')}`)
  }
  if (!['PodChaos', 'NetworkChaos', 'StressChaos'].includes(o.kind))
    problems.push(`${at}: unexpected kind ${o.kind}`)
  problems.push(...selectorProblems(`${at}: spec`, spec, workloads))
  if (spec.duration !== undefined && !DURATION.test(spec.duration)) {
    problems.push(`${at}: duration "${spec.duration}" is not a Go duration`)
  }
  if (spec.duration === undefined)
    problems.push(`${at}: set a duration, or the experiment runs until deleted`)

  if (o.kind === 'NetworkChaos') {
    if (!['to', 'from', 'both'].includes(spec.direction ?? 'to'))
      problems.push(`${at}: direction must be to, from or both`)
    // A partition without a target cuts the pods off from everything, probes included.
    if (spec.action === 'partition' && spec.target === undefined)
      problems.push(`${at}: a partition needs a target`)
    if (spec.target !== undefined)
      problems.push(...selectorProblems(`${at}: spec.target`, spec.target, workloads))
  }
  if (o.kind === 'StressChaos') {
    const cpu = spec.stressors?.cpu
    const memory = spec.stressors?.memory
    if (!cpu && !memory && !spec.stressngStressors) problems.push(`${at}: needs stressors (cpu or memory)`)
    if (cpu && !(Number.isInteger(cpu.workers) && cpu.workers >= 1))
      problems.push(`${at}: stressors.cpu.workers must be >= 1`)
    if (cpu && !(Number.isInteger(cpu.load) && cpu.load >= 0 && cpu.load <= 100)) {
      problems.push(`${at}: stressors.cpu.load must be 0 to 100`)
    }
  }
  return problems
}

/** mode and selector, and the selector must pick the pods of at least one workload of the build. */
function selectorProblems(at: string, spec: Obj, workloads: Doc[]): string[] {
  const problems: string[] = []
  if (!MODES.includes(spec.mode)) problems.push(`${at}.mode must be one of ${MODES.join(', ')}`)
  if (['fixed', 'fixed-percent', 'random-max-percent'].includes(spec.mode) && spec.value === undefined) {
    problems.push(`${at}.value is required with mode ${spec.mode}`)
  }
  const selector = spec.selector
  const labels: Record<string, string> = selector?.labelSelectors ?? {}
  if (!selector || Object.keys(labels).length === 0)
    return [...problems, `${at}.selector.labelSelectors is required`]
  const hit = workloads.filter(
    (w) =>
      (selector.namespaces ?? []).includes(w.obj.metadata?.namespace) &&
      podSpec(w.obj) &&
      Object.entries(labels).every(([k, v]) => w.obj.spec.template.metadata?.labels?.[k] === v),
  )
  if (hit.length === 0)
    problems.push(`${at}.selector matches no workload in namespaces ${selector.namespaces}`)
  return problems
}

/** The workload a chaos selector hits (for asserting which one an experiment targets). */
export function targetOf(selector: Obj, workloads: Doc[]): string[] {
  return workloads
    .filter((w) =>
      Object.entries(selector?.labelSelectors ?? {}).every(
        ([k, v]) => w.obj.spec?.template?.metadata?.labels?.[k] === v,
      ),
    )
    .map((w) => w.obj.metadata.name)
}
