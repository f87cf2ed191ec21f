// Reads the reference lists out of the built packages, so the site is checked against the code rather
// than against a copy of it: every `...OptionKeys` (and `...ConfigKeys`) array and every GR_ERR_* code a
// package's dist exports,
// and every metric its factories register (found by running them into a private registry: see
// exercises.ts). The reference pages show the package READMEs; the generated pages and the site test
// use these lists.
import { readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type Exercise, exercises } from './exercises.js'
import { type PackageSource, packageSources } from './sources.js'

export interface OptionKeyList {
  /**
   * Whose keys these are: the export's name without `OptionKeys` (a factory, or a nested option such as
   * `admin`), or without `Keys` for a `...ConfigKeys` list (per-route config).
   */
  factory: string
  keys: string[]
}

export interface MetricInfo {
  /** Metric name; a name the user chooses is shown as `<name>` (core's queue-depth gauge). */
  name: string
  type: string
  help: string
  /** Label names, without the histogram's `le`. */
  labels: string[]
}

export interface PackageReference {
  id: string
  name: string
  /** False when dist/ is missing: nothing could be read from the code. */
  built: boolean
  errorCodes: string[]
  optionKeys: OptionKeyList[]
  /** Null when exercises.ts has no entry for this package: its metrics are unknown to the site. */
  metrics: MetricInfo[] | null
}

type ModuleExports = Record<string, unknown>

function distModules(dir: string): string[] {
  const dist = join(dir, 'dist')
  return readdirSync(dist, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((f) => join(dist, f))
}

async function importAll(files: string[]): Promise<ModuleExports[]> {
  return Promise.all(files.map((f) => import(pathToFileURL(f).href) as Promise<ModuleExports>))
}

const CODE_RE = /^GR_ERR_[A-Z0-9_]+$/

function codesIn(mods: ModuleExports[]): string[] {
  const codes = new Set<string>()
  for (const mod of mods) {
    for (const value of Object.values(mod)) {
      if (typeof value === 'string' && CODE_RE.test(value)) codes.add(value)
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const v of Object.values(value)) if (typeof v === 'string' && CODE_RE.test(v)) codes.add(v)
      }
    }
  }
  return [...codes].sort()
}

function optionKeysIn(mods: ModuleExports[]): OptionKeyList[] {
  const lists = new Map<string, string[]>()
  for (const mod of mods) {
    for (const [exportName, value] of Object.entries(mod)) {
      const m = /^(\w+?)(?:OptionKeys|ConfigKeys)$/.exec(exportName)
      if (!m || !Array.isArray(value)) continue
      lists.set(
        exportName.endsWith('ConfigKeys') ? exportName.slice(0, -'Keys'.length) : m[1]!,
        value.map(String),
      )
    }
  }
  return [...lists].map(([factory, keys]) => ({ factory, keys }))
}

interface MetricJson {
  name: string
  type: string
  help: string
  values: { labels: Record<string, unknown> }[]
}
interface RegistryLike {
  getMetricsAsJSON(): Promise<MetricJson[]>
  getSingleMetric(name: string): unknown
}

async function metricsOf(source: PackageSource, exercise: Exercise): Promise<MetricInfo[]> {
  const require = createRequire(join(source.dir, 'package.json'))
  const load = (specifier: string) => import(pathToFileURL(require.resolve(specifier)).href)
  const promClient = await load('prom-client')
  const mod = await import(pathToFileURL(source.distEntry!).href)
  const { registry, rename = {}, cleanup } = await exercise({ mod, load, promClient })
  try {
    // prom-client's default metrics are prom-client's to document; list what @goreliable adds.
    const defaults = new promClient.Registry() as RegistryLike
    promClient.collectDefaultMetrics({ register: defaults })
    const theirs = new Set((await defaults.getMetricsAsJSON()).map((m) => m.name))
    const reg = registry as RegistryLike
    return (await reg.getMetricsAsJSON())
      .filter((m) => !theirs.has(m.name))
      .map((m) => {
        const declared = (reg.getSingleMetric(m.name) as { labelNames?: unknown } | undefined)?.labelNames
        const seen = new Set<string>(Array.isArray(declared) ? declared.map(String) : [])
        for (const v of m.values) for (const l of Object.keys(v.labels)) seen.add(l)
        seen.delete('le')
        let name = m.name
        for (const [from, to] of Object.entries(rename))
          if (name.startsWith(from)) name = to + name.slice(from.length)
        return { name, type: m.type, help: m.help, labels: [...seen] }
      })
  } finally {
    await cleanup?.()
  }
}

/**
 * The reference lists of every package under packages/, in reading order. An item (code, option list,
 * metric) that two packages share, because one re-exports or reuses the other's, belongs to the first.
 */
export async function collectReference(sources = packageSources()): Promise<PackageReference[]> {
  const seenCodes = new Set<string>()
  const seenOptions = new Set<string>()
  const seenMetrics = new Set<string>()
  const out: PackageReference[] = []
  for (const source of sources) {
    const ref: PackageReference = {
      id: source.id,
      name: source.name,
      built: source.distEntry !== null,
      errorCodes: [],
      optionKeys: [],
      metrics: null,
    }
    out.push(ref)
    if (!ref.built) continue
    const mods = await importAll(distModules(source.dir))
    ref.errorCodes = codesIn(mods).filter((c) => !seenCodes.has(c))
    for (const c of ref.errorCodes) seenCodes.add(c)
    ref.optionKeys = optionKeysIn(mods).filter((o) => {
      const key = `${o.factory}:${o.keys.join(',')}`
      if (seenOptions.has(key)) return false
      seenOptions.add(key)
      return true
    })
    const exercise = exercises[source.id]
    if (exercise) {
      ref.metrics = (await metricsOf(source, exercise)).filter((m) => !seenMetrics.has(m.name))
      for (const m of ref.metrics) seenMetrics.add(m.name)
    }
  }
  return out
}
