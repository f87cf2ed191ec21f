import { Gauge, type Registry } from 'prom-client'
import { ErrorCodes, InvalidOptionError, TimeoutError } from './errors.js'
import { perRegistry, registerOnce } from './metric-family.js'
import {
  optionalNumber,
  rejectUnknownKeys,
  requireFunction,
  requireObject,
  requireOneOf,
  requireString,
} from './options.js'

/** Which probe a check answers: Kubernetes' readinessProbe, livenessProbe or startupProbe. */
export type CheckKind = 'readiness' | 'liveness' | 'startup'

const KINDS: readonly CheckKind[] = ['readiness', 'liveness', 'startup']

/** setTimeout fires at once for delays above 2^31 - 1 ms, so longer timeouts would silently mean "no wait". */
const MAX_TIMER_MS = 2_147_483_647

/** Name of the pseudo-check that fails readiness from the first moment of shutdown. */
export const SHUTDOWN_CHECK_NAME = 'shutdown'

export interface HealthOptions {
  /**
   * How long a check's result is reused, in ms, so that a scrape storm cannot hammer a database. A check
   * can override it with its own `cacheMs`. 0 disables caching (concurrent probes still share one run).
   * @default 1000
   */
  cacheMs?: number
  /**
   * Time a check may take before it fails with `GR_ERR_CHECK_TIMEOUT`, in ms, for checks that set no
   * `timeoutMs`. Below Kubernetes' default probe timeout (1 s) so the probe gets an answer, not a timeout.
   * @default 500
   */
  defaultTimeoutMs?: number
  /**
   * Registry for the `health_check_status{check,kind}` gauge (1 = passed, 0 = failed on its last run).
   * Without it no metric is registered.
   * @default undefined
   */
  registry?: Registry
}

/** Known keys of {@link HealthOptions}; the docs test checks that each is documented. */
export const createHealthOptionKeys = ['cacheMs', 'defaultTimeoutMs', 'registry'] as const

export interface HealthCheck {
  /** Shown in reports and as the `check` label; unique per kind. */
  name: string
  /** Which probe this check answers. */
  kind: CheckKind
  /**
   * Passes unless it throws, rejects or returns `false`. Receives a signal that aborts at the timeout, for
   * checks (like `fetch`) that can stop early.
   */
  check: (signal: AbortSignal) => unknown
  /**
   * This check's timeout in ms.
   * @default the Health's `defaultTimeoutMs`
   */
  timeoutMs?: number
  /**
   * How long this check's result is reused, in ms.
   * @default the Health's `cacheMs`
   */
  cacheMs?: number
}

/** Known keys of {@link HealthCheck}; the docs test checks that each is documented. */
export const addCheckOptionKeys = ['name', 'kind', 'check', 'timeoutMs', 'cacheMs'] as const

export interface CheckResult {
  name: string
  status: 'ok' | 'fail'
  /** How long the run that produced this result took. */
  durationMs: number
  /** Why it failed: the error's message (prefixed by its code when it has one), never a stack. */
  error?: string
  /** True when this result was computed before the report asked (cache, or a passed startup check). */
  cached?: boolean
}

export interface HealthReport {
  /** `ok` only when every check of the kind passed. */
  status: 'ok' | 'fail'
  checks: CheckResult[]
}

export interface Health {
  /**
   * Registers a check. Throws InvalidOptionError on a bad definition or a name already used for this kind.
   * Returns a function that removes the check (for a plugin instance that closes).
   */
  addCheck(check: HealthCheck): () => void
  /** Runs (or reuses) every check of `kind` and says which failed and why. Never rejects for a check's sake. */
  report(kind: CheckKind): Promise<HealthReport>
  /** Fails readiness from now on, without running readiness checks; liveness and startup are unaffected. */
  markShuttingDown(): void
  readonly isShuttingDown: boolean
}

interface Entry {
  readonly name: string
  readonly kind: CheckKind
  readonly check: (signal: AbortSignal) => unknown
  readonly timeoutMs: number
  readonly cacheMs: number
  last?: CheckResult
  lastAt: number
  inflight?: Promise<CheckResult>
  /** The user's promise from a run that timed out and has not settled yet. */
  stuck: boolean
}

/**
 * Creates a registry of readiness, liveness and startup checks.
 *
 * @example
 * const health = createHealth({ cacheMs: 1000 })
 * health.addCheck({ name: 'db', kind: 'readiness', check: () => pool.query('SELECT 1'), timeoutMs: 300 })
 * const { status, checks } = await health.report('readiness')
 */
export function createHealth(options: HealthOptions = {}): Health {
  const opts = requireObject('options', options)
  rejectUnknownKeys('', opts, createHealthOptionKeys)
  const cacheMs = optionalNumber('cacheMs', opts.cacheMs, 1000)
  const defaultTimeoutMs = optionalNumber('defaultTimeoutMs', opts.defaultTimeoutMs, 500, {
    min: 1,
    max: MAX_TIMER_MS,
  })
  const registry = optionalRegistry(opts.registry)

  const entries: Entry[] = []
  let shuttingDown = false

  const health: Health = {
    get isShuttingDown() {
      return shuttingDown
    },
    markShuttingDown() {
      shuttingDown = true
    },
    addCheck(definition) {
      const def = requireObject('check', definition)
      rejectUnknownKeys('', def, addCheckOptionKeys)
      const name = requireString('name', def.name)
      const kind = requireOneOf('kind', def.kind, KINDS)
      const entry: Entry = {
        name,
        kind,
        check: requireFunction('check', def.check),
        timeoutMs: optionalNumber('timeoutMs', def.timeoutMs, defaultTimeoutMs, {
          min: 1,
          max: MAX_TIMER_MS,
        }),
        cacheMs: optionalNumber('cacheMs', def.cacheMs, cacheMs),
        lastAt: 0,
        stuck: false,
      }
      if (entries.some((e) => e.name === name && e.kind === kind)) {
        throw new InvalidOptionError('name', `a name not already used by another ${kind} check`, name)
      }
      entries.push(entry)
      return () => {
        const i = entries.indexOf(entry)
        if (i !== -1) entries.splice(i, 1)
      }
    },
    async report(kind) {
      requireOneOf('kind', kind, KINDS)
      // Readiness checks are not run once shutdown begins: their resources are being closed, and the
      // answer is "not ready" whatever they say.
      if (kind === 'readiness' && shuttingDown) {
        return { status: 'fail', checks: [shutdownResult()] }
      }
      const now = performance.now()
      const checks = await Promise.all(entries.filter((e) => e.kind === kind).map((e) => evaluate(e, now)))
      return { status: checks.every((c) => c.status === 'ok') ? 'ok' : 'fail', checks }
    },
  }

  if (registry) {
    registerStatusGauge(registry)
    statusGaugeSources(registry, () => new Set()).add({ entries, isShuttingDown: () => shuttingDown })
  }
  return health
}

function shutdownResult(): CheckResult {
  return { name: SHUTDOWN_CHECK_NAME, status: 'fail', durationMs: 0, error: 'the process is shutting down' }
}

function evaluate(entry: Entry, now: number): CheckResult | Promise<CheckResult> {
  const last = entry.last
  // A startup check that passed once is never rerun: startup has happened and cannot un-happen.
  if (last && entry.kind === 'startup' && last.status === 'ok') return { ...last, cached: true }
  if (last && now - entry.lastAt < entry.cacheMs) return { ...last, cached: true }
  if (entry.inflight) return entry.inflight
  const inflight = runOnce(entry).then((result) => {
    entry.last = result
    entry.lastAt = performance.now()
    entry.inflight = undefined
    return result
  })
  entry.inflight = inflight
  return inflight
}

async function runOnce(entry: Entry): Promise<CheckResult> {
  const started = performance.now()
  const timeoutError = () =>
    new TimeoutError(ErrorCodes.CHECK_TIMEOUT, `Health check "${entry.name}"`, entry.timeoutMs)
  const fail = (error: unknown): CheckResult => ({
    name: entry.name,
    status: 'fail',
    durationMs: elapsed(started),
    error: describeError(error),
  })
  // A check that hung past its timeout is not called again until its previous call settles, so a dead
  // database cannot collect one more pending query per probe.
  if (entry.stuck) return fail(timeoutError())

  const controller = new AbortController()
  let pending: Promise<unknown>
  try {
    pending = Promise.resolve(entry.check(controller.signal))
  } catch (err) {
    pending = Promise.reject(err)
  }
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(resolve, entry.timeoutMs, 'timeout').unref()
  })
  const outcome = await Promise.race([
    pending.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    timedOut,
  ])
  clearTimeout(timer)
  if (outcome === 'timeout') {
    const error = timeoutError()
    controller.abort(error)
    entry.stuck = true
    const unstick = () => {
      entry.stuck = false
    }
    pending.then(unstick, unstick)
    return fail(error)
  }
  if ('error' in outcome) return fail(outcome.error)
  if (outcome.value === false) return fail(new Error('check returned false'))
  return { name: entry.name, status: 'ok', durationMs: elapsed(started) }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000
}

/** Message only (a stack in a probe response leaks paths); the code first, since users match on it. */
function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const message = String((error as { message: unknown }).message)
    const code = (error as { code?: unknown }).code
    return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message
  }
  return String(error)
}

function optionalRegistry(value: unknown): Registry | undefined {
  if (value === undefined) return undefined
  const r = value as Partial<Registry> | null
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.registerMetric !== 'function' ||
    typeof r.getSingleMetric !== 'function'
  ) {
    throw new InvalidOptionError('registry', 'a prom-client Registry', value)
  }
  return value as Registry
}

interface Source {
  readonly entries: readonly Entry[]
  isShuttingDown(): boolean
}

const statusGaugeSources = perRegistry<Set<Source>>()

/** Reads last results at scrape time: a scrape never runs a check, so it cannot hammer a database either. */
function registerStatusGauge(registry: Registry): void {
  registerOnce(
    registry,
    'health_check_status',
    () =>
      new Gauge({
        name: 'health_check_status',
        help: 'Whether a health check passed (1) or failed (0) on its last run; shutdown is 0 once shutdown starts.',
        labelNames: ['check', 'kind'],
        registers: [],
        collect() {
          this.reset()
          for (const source of statusGaugeSources(registry, () => new Set())) {
            this.set({ check: SHUTDOWN_CHECK_NAME, kind: 'readiness' }, source.isShuttingDown() ? 0 : 1)
            for (const e of source.entries) {
              if (e.last) this.set({ check: e.name, kind: e.kind }, e.last.status === 'ok' ? 1 : 0)
            }
          }
        },
      }),
  )
}
