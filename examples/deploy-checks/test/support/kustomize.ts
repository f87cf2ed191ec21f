import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parse } from 'yaml'
import { rel } from './paths.js'
import { type Doc, parseYamlDocs, readYamlDocs } from './yaml-docs.js'

/**
 * A small, strict subset of `kustomize build`: resources (files and folders), namespace, images, and
 * `$patch: delete` patches. There is no kustomize binary on every machine that runs these checks; a
 * kustomization that uses anything else fails here instead of being half understood.
 */
export interface Build {
  docs: Doc[]
  /** Every file the build read, kustomization files included (absolute paths). */
  files: Set<string>
}

const KNOWN_KEYS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'patches', 'images'])
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition'])

export function kustomize(dir: string, visited: string[] = []): Build {
  const file = join(dir, 'kustomization.yaml')
  if (!existsSync(file)) throw new Error(`${rel(dir)} has no kustomization.yaml`)
  // Kustomize refuses to load a base from a folder that contains a kustomization already being built.
  for (const root of visited) {
    if (`${root}/`.startsWith(`${dir}/`)) throw new Error(`cycle: ${rel(dir)} contains ${rel(root)}`)
  }
  const k = parse(readFileSync(file, 'utf8'))
  if (k?.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || k?.kind !== 'Kustomization') {
    throw new Error(`${rel(file)}: not a kustomize.config.k8s.io/v1beta1 Kustomization`)
  }
  for (const key of Object.keys(k)) {
    if (!KNOWN_KEYS.has(key)) throw new Error(`${rel(file)}: "${key}" is not supported by these checks`)
  }
  const files = new Set<string>([file])
  let docs: Doc[] = []
  for (const entry of (k.resources ?? []) as string[]) {
    const path = resolve(dir, entry)
    if (!existsSync(path)) throw new Error(`${rel(file)}: resource ${entry} does not exist`)
    if (statSync(path).isDirectory()) {
      const sub = kustomize(path, [...visited, dir])
      docs.push(...sub.docs)
      for (const f of sub.files) files.add(f)
    } else {
      files.add(path)
      docs.push(...readYamlDocs(path))
    }
  }
  for (const [i, p] of ((k.patches ?? []) as { patch?: string; path?: string }[]).entries()) {
    const text = p.patch ?? (p.path ? readFileSync(resolve(dir, p.path), 'utf8') : undefined)
    if (text === undefined) throw new Error(`${rel(file)}: patch ${i} has neither patch nor path`)
    if (p.path) files.add(resolve(dir, p.path))
    for (const { obj } of parseYamlDocs(text, `${rel(file)} patch ${i}`)) {
      if (obj.$patch !== 'delete') throw new Error(`${rel(file)}: patch ${i} is not a $patch: delete`)
      const match = (d: Doc) =>
        d.obj.apiVersion === obj.apiVersion &&
        d.obj.kind === obj.kind &&
        d.obj.metadata?.name === obj.metadata?.name
      if (!docs.some(match)) {
        throw new Error(
          `${rel(file)}: patch ${i} deletes ${obj.kind}/${obj.metadata?.name}, which is not there`,
        )
      }
      docs = docs.filter((d) => !match(d))
    }
  }
  // Copies, so a namespace or image set here never leaks into another build of the same base.
  docs = docs.map((d) => ({ ...d, obj: structuredClone(d.obj) }))
  if (typeof k.namespace === 'string') {
    for (const d of docs) {
      if (!CLUSTER_SCOPED.has(d.obj.kind)) d.obj.metadata = { ...d.obj.metadata, namespace: k.namespace }
    }
  }
  for (const image of (k.images ?? []) as { name: string; newName?: string; newTag?: string }[]) {
    for (const d of docs) {
      for (const c of podSpec(d.obj)?.containers ?? []) {
        if (c.image === image.name || c.image?.startsWith(`${image.name}:`)) {
          c.image = `${image.newName ?? image.name}:${image.newTag ?? c.image.split(':')[1] ?? 'latest'}`
        }
      }
    }
  }
  return { docs, files }
}

/** The pod spec of a workload, or undefined for other kinds. */
// biome-ignore lint/suspicious/noExplicitAny: see Doc
export function podSpec(obj: any): any {
  return ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(obj?.kind)
    ? obj.spec?.template?.spec
    : undefined
}

/** Folder of a path, for resolving files a manifest names. */
export const folderOf = dirname
