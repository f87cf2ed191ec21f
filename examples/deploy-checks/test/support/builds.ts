import { join } from 'node:path'
import { type Build, kustomize } from './kustomize.js'
import { K8S_DIR } from './paths.js'
import type { Doc } from './yaml-docs.js'

/** The kustomizations under examples/k8s, by what they are for. */
export const KUSTOMIZATIONS = {
  top: K8S_DIR,
  base: join(K8S_DIR, 'base'),
  keda: join(K8S_DIR, 'overlays', 'keda'),
  monitoring: join(K8S_DIR, 'monitoring'),
  chaos: join(K8S_DIR, 'chaos'),
} as const

export const build = (name: keyof typeof KUSTOMIZATIONS): Build => kustomize(KUSTOMIZATIONS[name])

/** A deep copy of `docs` with `change` applied to the first document of that kind and name. */
// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped
export function mutate(docs: Doc[], kind: string, name: string, change: (obj: any) => void): Doc[] {
  const copy = docs.map((d) => ({ ...d, obj: structuredClone(d.obj) }))
  const target = copy.find((d) => d.obj.kind === kind && d.obj.metadata?.name === name)
  if (!target) throw new Error(`no ${kind}/${name} to mutate`)
  change(target.obj)
  return copy
}
