import { setTimeout as sleep } from 'node:timers/promises'
import { InvalidOptionError, validate } from '@goreliable/core'
import { nowMs } from './clock.js'
import { ChaosError, ChaosErrorCodes } from './errors.js'
import type {
  ChaosReport,
  CheckResult,
  Experiment,
  ExperimentContext,
  ExperimentResult,
  ExperimentWindow,
  InvariantReport,
  LoadSpec,
  Observed,
} from './experiment.js'
import { type LoadRun, type RequestSample, startLoad } from './load-driver.js'
import { summarize, timeToRecover } from './load-summary.js'
import { type ProfileName, type ProfileSettings, resolveProfile } from './profiles.js'

/** Options of {@link runExperiments}. */
export interface RunExperimentsOptions {
  /** The experiments, run one after another in this order. */
  experiments: readonly Experiment[]
  /** `short`, `full`, or settings of your own. @default 'short' */
  profile?: ProfileName | Partial<ProfileSettings>
  /** The load of experiments that do not set their own. @default none */
  load?: LoadSpec | ((profile: Readonly<ProfileSettings>) => LoadSpec)
  /** Run only the experiments with these names. @default all that the profile includes */
  only?: readonly string[]
  /** Longest time for one hook (`setup`, `fault`, `heal`, `verify`, `checks`, `teardown`). @default 60000 */
  hookTimeoutMs?: number
  /** Receives progress lines. @default process.stdout */
  log?: (line: string) => void
}

/** Every option key of {@link runExperiments}. */
export const runExperimentsOptionKeys = [
  'experiments',
  'profile',
  'load',
  'only',
  'hookTimeoutMs',
  'log',
] as const

/**
 * Runs chaos experiments in order. Each one: `setup()`, then load starts; after `warmupMs` the runner calls
 * `fault()`, holds the fault for `faultMs`, calls `heal()`, and keeps the load on until the service has
 * recovered (and `minRecoverMs` passed) or `recoverMs` ran out; then `verify()` counts what was lost or
 * duplicated, `checks()` judges, and `teardown()` runs whatever happened. A hook that throws or runs past
 * `hookTimeoutMs` fails its experiment, and the run moves on to the next.
 */
export async function runExperiments(options: RunExperimentsOptions): Promise<ChaosReport> {
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, runExperimentsOptionKeys)
  if (!Array.isArray(o.experiments)) throw new InvalidOptionError('experiments', 'an array', o.experiments)
  const experiments = o.experiments as Experiment[]
  const names = new Set<string>()
  for (const [i, e] of experiments.entries()) {
    validate.requireObject(`experiments[${i}]`, e)
    const name = validate.requireString(`experiments[${i}].name`, e.name)
    if (names.has(name)) throw new InvalidOptionError(`experiments[${i}].name`, 'a unique name', name)
    names.add(name)
    validate.requireString(`experiments[${i}].expectation`, e.expectation)
    for (const hook of ['fault', 'heal', 'checks'] as const)
      validate.requireFunction(`experiments[${i}].${hook}`, e[hook])
  }
  const profile = resolveProfile((o.profile ?? 'short') as ProfileName, 'profile')
  const only = o.only as string[] | undefined
  for (const name of only ?? []) {
    if (!names.has(name))
      throw new InvalidOptionError('only', `names of experiments (${[...names].join(', ')})`, name)
  }
  const hookTimeoutMs = validate.optionalNumber('hookTimeoutMs', o.hookTimeoutMs, 60_000, { min: 1 })
  const log =
    validate.optionalFunction<(line: string) => void>('log', o.log) ?? ((l: string) => console.log(l))
  const defaultLoad = o.load as RunExperimentsOptions['load']

  const selected = experiments.filter((e) =>
    only
      ? only.includes(e.name)
      : (e.profiles ?? ['short', 'full']).includes(profile.name as ProfileName) || !isBuiltIn(profile),
  )
  const startedAt = nowMs()
  const results: ExperimentResult[] = []
  for (const [i, experiment] of selected.entries()) {
    const prefix = `[${i + 1}/${selected.length} ${experiment.name}]`
    log(`${prefix} ${experiment.expectation}`)
    const result = await runOne(experiment, profile, defaultLoad, hookTimeoutMs, (line) =>
      log(`${prefix} ${line}`),
    )
    log(`${prefix} ${result.pass ? 'PASS' : 'FAIL'}`)
    results.push(result)
  }
  return {
    profile,
    startedAt: new Date(startedAt).toISOString(),
    durationMs: nowMs() - startedAt,
    pass: results.every((r) => r.pass),
    results,
  }
}

function isBuiltIn(profile: ProfileSettings): boolean {
  return profile.name === 'short' || profile.name === 'full'
}

async function runOne(
  experiment: Experiment,
  baseProfile: ProfileSettings,
  defaultLoad: RunExperimentsOptions['load'],
  hookTimeoutMs: number,
  log: (line: string) => void,
): Promise<ExperimentResult> {
  const profile: ProfileSettings = { ...baseProfile, ...experiment.phases }
  const marks: Record<string, number> = {}
  const notes: Record<string, unknown> = {}
  const errors: string[] = []
  let load: LoadRun | undefined
  let signal = new AbortController().signal
  const ctx: ExperimentContext = {
    profile,
    get samples(): readonly RequestSample[] {
      return load?.samples ?? []
    },
    get signal() {
      return signal
    },
    mark: (name, at = nowMs()) => {
      marks[name] = at
    },
    note: (key, value) => {
      notes[key] = value
    },
    log,
  }
  /** Runs a hook under the time limit; records its failure and returns false instead of throwing. */
  const hook = async <T>(
    name: string,
    fn: (() => Promise<T> | T) | undefined,
  ): Promise<{ ok: boolean; value?: T }> => {
    if (!fn) return { ok: true }
    const controller = new AbortController()
    signal = controller.signal
    let timer: NodeJS.Timeout | undefined
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort()
          reject(
            new ChaosError(
              ChaosErrorCodes.HOOK_TIMEOUT,
              `${name}() did not settle within ${hookTimeoutMs} ms`,
            ),
          )
        }, hookTimeoutMs)
      })
      const value = await Promise.race([Promise.resolve().then(fn), timeout])
      return { ok: true, value }
    } catch (error) {
      const e = error as { code?: string; message?: string }
      errors.push(
        `${name}: ${e.code && !e.message?.includes(e.code) ? `${e.code} ` : ''}${e.message ?? String(error)}`,
      )
      log(`${name}() failed: ${e.message ?? String(error)}`)
      return { ok: false }
    } finally {
      clearTimeout(timer)
    }
  }

  const started = nowMs()
  const window: ExperimentWindow = {
    startedAt: started,
    faultStartedAt: 0,
    healStartedAt: 0,
    healedAt: 0,
    endedAt: 0,
  }
  let checks: CheckResult[] = []
  let invariants: InvariantReport | undefined
  let observed: Observed | undefined
  try {
    await observe()
  } finally {
    await load?.stop()
    await hook('teardown', experiment.teardown && (() => experiment.teardown!(ctx)))
  }
  return finish()

  async function observe(): Promise<void> {
    if (!(await hook('setup', experiment.setup && (() => experiment.setup!(ctx)))).ok) return
    const spec = resolveLoad(experiment, defaultLoad, profile)
    window.startedAt = nowMs()
    if (spec) {
      // The run is stopped by the runner; its own duration is only a backstop so that it always ends.
      const backstopMs = profile.warmupMs + profile.faultMs + profile.recoverMs + 4 * hookTimeoutMs
      load = startLoad({ ...spec, durationMs: backstopMs } as Parameters<typeof startLoad>[0])
      log(
        `load: ${spec.concurrency ? `${spec.concurrency} clients` : `${spec.ratePerSecond} req/s`} to ${spec.url}`,
      )
    }
    await sleep(profile.warmupMs)

    window.faultStartedAt = nowMs()
    log('fault')
    await hook('fault', () => experiment.fault(ctx))
    await sleep(Math.max(0, window.faultStartedAt + profile.faultMs - nowMs()))
    window.healStartedAt = nowMs()
    log('heal')
    await hook('heal', () => experiment.heal(ctx))
    window.healedAt = nowMs()

    await waitForRecovery(ctx, profile, window.healedAt, experiment)
    const result = load ? await load.stop() : undefined
    window.endedAt = nowMs()
    const isError = experiment.isError
    const opts = isError ? { isError } : {}
    const samples = result?.samples ?? []
    observed = {
      window,
      load: result,
      // A request in flight when the fault starts is the fault's, whenever it was sent: the three windows
      // split the requests without overlap and without gaps.
      before: summarize(samples, {
        ...opts,
        from: window.startedAt,
        to: window.faultStartedAt,
        include: 'completed',
      }),
      during: summarize(samples, {
        ...opts,
        from: window.faultStartedAt,
        to: window.healedAt,
        include: 'overlapping',
      }),
      after: summarize(samples, { ...opts, from: window.healedAt, to: window.endedAt + 1 }),
      timeToRecoverMs: result
        ? timeToRecover(samples, { ...opts, after: window.healedAt, sustainMs: profile.sustainMs })
        : null,
      marks,
      notes,
      invariants: undefined,
    }
    const verified = await hook('verify', experiment.verify && (() => experiment.verify!(ctx, observed!)))
    invariants = verified.value ?? undefined
    observed.invariants = invariants
    const judged = await hook('checks', () => experiment.checks(observed!, ctx))
    checks = judged.value ?? []
  }

  function finish(): ExperimentResult {
    const pass = errors.length === 0 && checks.length > 0 && checks.every((c) => c.pass)
    if (errors.length === 0 && checks.length === 0) errors.push('checks: returned no check')
    return {
      name: experiment.name,
      expectation: experiment.expectation,
      pass,
      errorRateDuringFault: observed?.load ? observed.during.errorRate : null,
      statusesDuringFault: observed?.during.statusCounts ?? {},
      timeToRecoverMs: observed?.timeToRecoverMs ?? null,
      invariants,
      checks,
      errors,
      window: window.endedAt ? window : undefined,
      summaries: observed
        ? { before: observed.before, during: observed.during, after: observed.after }
        : undefined,
      marks,
      notes,
      durationMs: nowMs() - started,
    }
  }
}

function resolveLoad(
  experiment: Experiment,
  defaultLoad: RunExperimentsOptions['load'],
  profile: ProfileSettings,
): LoadSpec | null {
  const chosen = experiment.load === undefined ? defaultLoad : experiment.load
  if (chosen === undefined || chosen === null) return null
  const spec = typeof chosen === 'function' ? chosen(profile) : chosen
  if (spec.ratePerSecond === undefined && spec.concurrency === undefined) {
    return { ...spec, ratePerSecond: profile.ratePerSecond }
  }
  return spec
}

/** Ends the recovery phase early once the recovery is sustained, so a healthy system does not cost `recoverMs`. */
async function waitForRecovery(
  ctx: ExperimentContext,
  profile: ProfileSettings,
  healedAt: number,
  experiment: Experiment,
): Promise<void> {
  const minEnd = healedAt + profile.minRecoverMs
  const maxEnd = healedAt + profile.recoverMs
  while (nowMs() < maxEnd) {
    await sleep(Math.min(250, Math.max(0, maxEnd - nowMs())))
    if (nowMs() < minEnd) continue
    if (ctx.samples.length === 0) break
    const opts = experiment.isError ? { isError: experiment.isError } : {}
    if (timeToRecover(ctx.samples, { ...opts, after: healedAt, sustainMs: profile.sustainMs }) !== null) break
  }
}
