import type { LoadOptions, LoadResult, RequestSample } from './load-driver.js'
import type { IsError, LoadSummary } from './load-summary.js'
import type { ProfileName, ProfileSettings } from './profiles.js'

/** The load an experiment drives: the driver's options without the duration, which the runner sets. */
export type LoadSpec = Omit<LoadOptions, 'durationMs' | 'signal' | 'ratePerSecond' | 'concurrency'> & {
  /** @default the profile's `ratePerSecond`, unless `concurrency` is given */
  ratePerSecond?: number
  concurrency?: number
}

/** What an experiment's hooks receive. */
export interface ExperimentContext {
  /** The profile in force. */
  readonly profile: Readonly<ProfileSettings>
  /** The load's samples so far (live while the load runs; empty for an experiment without load). */
  readonly samples: readonly RequestSample[]
  /** Aborted when the hook in progress ran past `hookTimeoutMs`: stop waiting and return. */
  readonly signal: AbortSignal
  /** Records a named moment (epoch milliseconds, now by default), such as when readiness failed. */
  mark(name: string, at?: number): void
  /** Records a value for the checks and the JSON report, such as the number of deliveries per message. */
  note(key: string, value: unknown): void
  /** Prints a progress line under the experiment's name. */
  log(line: string): void
}

/** The outcome of one expectation. */
export interface CheckResult {
  /** What was expected, in a few words: `only 503 during the fault`. */
  name: string
  pass: boolean
  /** What was seen, as a person would read it: `503×80, 502×3`. */
  observed: string
}

/** Counts from the system's own records (the database, the fake provider) after the experiment. */
export interface InvariantReport {
  /** Accepted items (orders answered 201) missing from the records, or notifications never delivered. */
  lost: number
  /** Items recorded more than once. */
  duplicated: number
  /** One line on what was counted. */
  details?: string
}

/** The moments of one experiment run, epoch milliseconds. */
export interface ExperimentWindow {
  startedAt: number
  faultStartedAt: number
  healStartedAt: number
  healedAt: number
  endedAt: number
}

/** Everything the runner saw, handed to `checks()`. */
export interface Observed {
  window: ExperimentWindow
  /** The whole load run; undefined for an experiment without load. */
  load: LoadResult | undefined
  /** Requests that ended before the fault started. */
  before: LoadSummary
  /** Requests in flight at some moment from the start of `fault()` until `heal()` resolved. */
  during: LoadSummary
  /** Requests sent after `heal()` resolved. */
  after: LoadSummary
  /** From `heal()` resolving to the first sustained success; null when it never recovered while observed. */
  timeToRecoverMs: number | null
  marks: Record<string, number>
  notes: Record<string, unknown>
  /** What `verify()` returned. */
  invariants: InvariantReport | undefined
}

/** One chaos experiment: a fault, the load it is observed under, and the expectations it must meet. */
export interface Experiment {
  /** Short and unique: the first column of the report, and what `--only` selects. */
  name: string
  /** The expectation, one or two sentences: the report's second column. */
  expectation: string
  /** Profiles it runs in. @default both */
  profiles?: readonly ProfileName[]
  /** The load to drive, or a function of the profile; `null` for none. @default the runner's `load` */
  load?: LoadSpec | ((profile: Readonly<ProfileSettings>) => LoadSpec) | null
  /** What counts as a failed request. @default no answer or a 5xx */
  isError?: IsError
  /** Phase lengths that differ from the profile's. */
  phases?: Partial<Omit<ProfileSettings, 'name' | 'ratePerSecond'>>
  /** Before the load starts: start services, put proxies in place. */
  setup?(ctx: ExperimentContext): Promise<void> | void
  /** Starts the fault (under load). The runner holds it for `faultMs`, counted from the start of this call. */
  fault(ctx: ExperimentContext): Promise<void> | void
  /** Ends the fault; the recovery is timed from when this resolves. Runs whenever `fault()` was called. */
  heal(ctx: ExperimentContext): Promise<void> | void
  /** After the load stopped: count what was lost or duplicated in the system's own records. */
  verify?(
    ctx: ExperimentContext,
    observed: Observed,
  ): Promise<InvariantReport | undefined> | InvariantReport | undefined
  /** The expectations, each with what was observed. The experiment passes when every check passes. */
  checks(observed: Observed, ctx: ExperimentContext): Promise<CheckResult[]> | CheckResult[]
  /** Always runs last, whatever failed: stop what `setup()` started. */
  teardown?(ctx: ExperimentContext): Promise<void> | void
}

/** One row of the report. */
export interface ExperimentResult {
  name: string
  expectation: string
  pass: boolean
  /** Error rate of the requests sent during the fault; null without load. */
  errorRateDuringFault: number | null
  /** Count per status of the requests sent during the fault. */
  statusesDuringFault: Record<string, number>
  timeToRecoverMs: number | null
  invariants: InvariantReport | undefined
  checks: CheckResult[]
  /** A hook that threw or timed out: `fault: GR_ERR_CHAOS_HOOK_TIMEOUT ...`. */
  errors: string[]
  window: ExperimentWindow | undefined
  summaries: { before: LoadSummary; during: LoadSummary; after: LoadSummary } | undefined
  marks: Record<string, number>
  notes: Record<string, unknown>
  durationMs: number
}

/** The whole run. */
export interface ChaosReport {
  profile: ProfileSettings
  startedAt: string
  durationMs: number
  pass: boolean
  results: ExperimentResult[]
}
