import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import {
  type FunctionInput,
  type LabelInput,
  type LocationInput,
  type MappingInput,
  Profile,
  StringTable,
} from 'pprof-format'
import type { ContinuousConfig } from './profiler-owner.js'

/**
 * Internal to @goreliable/core: merging wall-profile segments, and pushing them to Pyroscope in the format
 * @pyroscope/nodejs uses (its exporter is not exported from the package, so it cannot be reused).
 */

type Numeric = number | bigint

/**
 * A profile to read. @datadog/pprof is CommonJS and returns profiles of pprof-format's CommonJS build, whose
 * types differ from the ESM build's only in private fields, so reading goes through this structural type.
 */
export type ProfileLike = Omit<Profile, 'stringTable'> & { stringTable: { strings: string[] } }

const gzipAsync = promisify(gzip)

/** Gzipped pprof, what `go tool pprof`, pprof-format and Pyroscope read. */
export async function encodeProfile(profile: { encode(): Uint8Array }): Promise<Buffer> {
  return gzipAsync(profile.encode())
}

/**
 * @pyroscope/nodejs renames V8's sample types to Go's before pushing; Pyroscope recognises profile types by
 * these names, so our pushes use them too.
 */
const PYROSCOPE_VALUE_NAMES: Record<string, string> = {
  objects: 'inuse_objects',
  sample: 'samples',
  space: 'inuse_space',
}

/**
 * @pyroscope/nodejs also names each function `path:name:line`, with the working directory shortened to `.`,
 * so that flame graphs tell apart functions of the same name. Names that already carry a `:` are kept.
 */
function pyroscopeFunctionName(name: string, filename: string, line: number, cwd: string): string {
  if (name.includes(':') && !name.startsWith('(anonymous')) return name
  return `${filename.replace(cwd, '.')}:${name}:${line}`
}

/**
 * Merges profiles cut from one sampler into one: identical stacks with identical labels add up. They are
 * segments of one timeline, so the result starts at `startMs` (@datadog/pprof stamps a profile with the time
 * it was serialised, its end) and lasts as long as all of them together. The inputs are never modified (a
 * segment may belong to a capture and to a push at once). With `forPyroscope`, names are rewritten as
 * @pyroscope/nodejs does before its own pushes.
 */
export function mergeProfiles(
  profiles: readonly ProfileLike[],
  startMs: number,
  forPyroscope = false,
): Profile {
  const first = profiles[0]
  if (first === undefined) throw new Error('mergeProfiles needs at least one profile')
  const strings = new StringTable()
  const cwd = process.cwd()
  const str = (p: ProfileLike, index: Numeric): string => p.stringTable.strings[Number(index)] ?? ''
  const valueName = (name: string): string => (forPyroscope ? (PYROSCOPE_VALUE_NAMES[name] ?? name) : name)
  const typesOf = (p: ProfileLike): string =>
    p.sampleType.map((t) => `${str(p, t.type)}/${str(p, t.unit)}`).join()

  const mappings: MappingInput[] = []
  const functions: FunctionInput[] = []
  const locations: LocationInput[] = []
  const mappingIds = new Map<string, number>()
  const functionIds = new Map<string, number>()
  const locationIds = new Map<string, number>()
  const samples = new Map<string, { locationId: number[]; value: number[]; label: LabelInput[] }>()
  const expectedTypes = typesOf(first)
  let durationNanos = 0

  for (const p of profiles) {
    if (typesOf(p) !== expectedTypes) throw new Error('Cannot merge profiles with different sample types')
    durationNanos += Number(p.durationNanos)
    // Ids are per input profile; these maps translate them to the merged profile's ids.
    const mappingOf = new Map<number, number>([[0, 0]])
    const functionOf = new Map<number, number>()
    const locationOf = new Map<number, number>()
    const functionsById = new Map(p.function.map((f) => [Number(f.id), f]))

    for (const m of p.mapping) {
      const filename = str(p, m.filename)
      const buildId = str(p, m.buildId)
      const key = [filename, buildId, m.memoryStart, m.memoryLimit, m.fileOffset].join('\0')
      let id = mappingIds.get(key)
      if (id === undefined) {
        id = mappings.length + 1
        mappingIds.set(key, id)
        mappings.push({ ...m, id, filename: strings.dedup(filename), buildId: strings.dedup(buildId) })
      }
      mappingOf.set(Number(m.id), id)
    }

    const functionId = (oldId: Numeric, line: Numeric): number => {
      const known = functionOf.get(Number(oldId))
      if (known !== undefined) return known
      const f = functionsById.get(Number(oldId))
      const name = f ? str(p, f.name) : ''
      const systemName = f ? str(p, f.systemName) : ''
      const filename = f ? str(p, f.filename) : ''
      const key = [name, systemName, filename, f?.startLine ?? 0].join('\0')
      let id = functionIds.get(key)
      if (id === undefined) {
        id = functions.length + 1
        functionIds.set(key, id)
        const shown = forPyroscope ? pyroscopeFunctionName(name, filename, Number(line), cwd) : name
        functions.push({
          id,
          name: strings.dedup(shown),
          systemName: strings.dedup(systemName),
          filename: strings.dedup(filename),
          startLine: f?.startLine ?? 0,
        })
      }
      functionOf.set(Number(oldId), id)
      return id
    }

    for (const loc of p.location) {
      const mappingId = mappingOf.get(Number(loc.mappingId)) ?? 0
      const line = loc.line.map((l) => ({
        functionId: functionId(l.functionId, l.line),
        line: l.line,
        column: l.column,
      }))
      const key = `${mappingId}|${loc.address}|${loc.isFolded}|${line.map((l) => `${l.functionId}:${l.line}:${l.column}`).join(';')}`
      let id = locationIds.get(key)
      if (id === undefined) {
        id = locations.length + 1
        locationIds.set(key, id)
        locations.push({ id, mappingId, address: loc.address, line, isFolded: loc.isFolded })
      }
      locationOf.set(Number(loc.id), id)
    }

    for (const s of p.sample) {
      const locationId = s.locationId.map((id) => locationOf.get(Number(id)) ?? 0)
      const label = s.label.map((l) => ({
        key: strings.dedup(str(p, l.key)),
        str: strings.dedup(str(p, l.str)),
        num: l.num,
        numUnit: strings.dedup(str(p, l.numUnit)),
      }))
      const key = `${locationId.join()}|${label.map((l) => `${l.key}:${l.str}:${l.num}:${l.numUnit}`).join()}`
      const known = samples.get(key)
      if (known === undefined) {
        samples.set(key, { locationId, value: s.value.map(Number), label })
      } else {
        s.value.forEach((v, i) => {
          known.value[i] = (known.value[i] ?? 0) + Number(v)
        })
      }
    }
  }

  const valueType = (p: ProfileLike, t: { type: Numeric; unit: Numeric }) => ({
    type: strings.dedup(valueName(str(p, t.type))),
    unit: strings.dedup(valueName(str(p, t.unit))),
  })
  return new Profile({
    sampleType: first.sampleType.map((t) => valueType(first, t)),
    sample: [...samples.values()],
    mapping: mappings,
    location: locations,
    function: functions,
    stringTable: strings,
    dropFrames: strings.dedup(str(first, first.dropFrames)),
    keepFrames: strings.dedup(str(first, first.keepFrames)),
    timeNanos: BigInt(Math.round(startMs)) * 1_000_000n,
    durationNanos,
    ...(first.periodType ? { periodType: valueType(first, first.periodType) } : {}),
    period: first.period,
    comment: first.comment.map((c) => strings.dedup(str(first, c))),
    defaultSampleType: strings.dedup(valueName(str(first, first.defaultSampleType))),
    docUrl: strings.dedup(str(first, first.docUrl)),
  })
}

/** `appName{k=v,...}`, the series name Pyroscope's `/ingest` expects. Later tags override earlier ones. */
export function pyroscopeSeriesName(appName: string, tags: Record<string, string>): string {
  return `${appName}{${Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}}`
}

/** Where and how one process pushes its profiles. */
export interface PushTarget {
  /** `{serverAddress}/ingest`. */
  ingestUrl: string
  /** `appName{tags}`. */
  seriesName: string
  authToken: string | undefined
  /** A push that takes longer is aborted, so a black-holed server cannot pile up requests. */
  timeoutMs: number
}

/**
 * One push, as @pyroscope/nodejs sends it. Throws when the server cannot be reached or answers with an
 * error status; the caller counts and logs, so that an unreachable server never crashes the process.
 */
export async function pushProfile(
  target: PushTarget,
  profile: ProfileLike,
  window: { fromMs: number; untilMs: number; sampleRate: number },
): Promise<void> {
  const from = Math.floor(window.fromMs / 1000)
  // Whole seconds, as @pyroscope/nodejs sends them, but never an empty window for a sub-second segment.
  const until = Math.max(from + 1, Math.floor(window.untilMs / 1000))
  const url = new URL(target.ingestUrl)
  url.searchParams.set('format', 'pprof')
  url.searchParams.set('from', String(from))
  url.searchParams.set('until', String(until))
  url.searchParams.set('name', target.seriesName)
  url.searchParams.set('spyName', 'nodespy')
  url.searchParams.set('sampleRate', String(window.sampleRate))
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' }
  if (target.authToken !== undefined) headers.authorization = `Bearer ${target.authToken}`
  const body = await encodeProfile(profile)
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(target.timeoutMs),
  })
  // Read the body either way so that undici can reuse the connection.
  const text = await response.text()
  if (!response.ok) throw new Error(`Pyroscope answered HTTP ${response.status}: ${text.slice(0, 200)}`)
}

/**
 * Continuous heap profiles come from @pyroscope/nodejs, which can still do that for us: its heap profiler
 * only reads snapshots and never touches the wall sampler. Returns whether it started. Its push failures are
 * only logged to its `debug` namespace `pyroscope`, and its timer holds the process open until close().
 */
export function startPyroscopeHeap(
  pyroscope: typeof import('@pyroscope/nodejs')['default'],
  { pyroscope: p, logger }: ContinuousConfig,
  samplingIntervalBytes: number,
  stackDepth: number,
): boolean {
  try {
    pyroscope.init({
      serverAddress: p.serverAddress,
      appName: p.appName,
      tags: p.tags,
      flushIntervalMs: p.flushIntervalMs,
      authToken: p.authToken,
      heap: { samplingIntervalBytes, stackDepth },
    })
    pyroscope.startHeapProfiling()
    return true
  } catch (err) {
    logger.warn({ err }, 'Continuous heap profiling could not start; wall profiles are still pushed')
    return false
  }
}

/** Bounded: @pyroscope/nodejs awaits its last upload, which has no timeout of its own. */
export async function stopPyroscopeHeap(timeoutMs: number): Promise<void> {
  const { default: pyroscope } = await import('@pyroscope/nodejs')
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs)
  })
  await Promise.race([pyroscope.stopHeapProfiling(), timeout]).finally(() => clearTimeout(timer))
}
