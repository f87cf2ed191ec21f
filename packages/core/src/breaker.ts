import type { EventEmitter } from 'node:events'
import CircuitBreaker from 'opossum'
import { Counter, Gauge, type Registry } from 'prom-client'
import { BreakerOpenError, InvalidOptionError } from './errors.js'
import { createFastHistogram, DURATION_BUCKETS_SECONDS, type HistogramSeries } from './fast-histogram.js'
import { perRegistry, registerOnce } from './metric-family.js'
import {
  optionalBoolean,
  optionalFunction,
  optionalNumber,
  optionalObject,
  rejectUnknownKeys,
  requireFunction,
  requireObject,
  requireOneOf,
  requireString,
} from './options.js'

/** The events `circuit_breaker_events_total` counts, as its `event` label spells them. */
export const BREAKER_EVENTS = [
  'success',
  'failure',
  'timeout',
  'reject',
  'fallback',
  'open',
  'half_open',
  'close',
] as const
export type BreakerEvent = (typeof BREAKER_EVENTS)[number]

/** Runs while the breaker lives; while `check` fails, the breaker is held open. */
export interface BreakerHealthCheck {
  /** Resolves when the upstream is healthy; a rejection, a throw or no answer within `intervalMs` is a failure. */
  check: () => Promise<unknown>
  /** Time between the starts of two checks, and the time bound of each. @default 5000 */
  intervalMs?: number
}

export interface CreateBreakerOptions {
  /** The `name` label of every metric series of this breaker, and opossum's `name`. */
  name: string
  /** The prom-client Registry the metric families are registered in (never the global one). */
  registry: Registry
  /** Time a call may take before it fails with opossum's ETIMEDOUT error; `false` disables it. @default 10000 */
  timeoutMs?: number | false
  /** Time the breaker stays open before it lets one trial call through (half-open). @default 30000 */
  resetTimeoutMs?: number
  /** Failure percentage within the rolling window above which the breaker opens. @default 50 */
  errorThresholdPercentage?: number
  /** Calls the rolling window must hold before the breaker may open. @default 0 */
  volumeThreshold?: number
  /** Length of opossum's rolling statistics window. @default 10000 */
  rollingCountTimeoutMs?: number
  /** Buckets the rolling window is divided into. @default 10 */
  rollingCountBuckets?: number
  /** Calls allowed in flight at once; more fail with opossum's ESEMLOCKED error. @default unlimited */
  capacity?: number
  /** Failures in the first `rollingCountTimeoutMs` do not open the breaker. @default false */
  allowWarmUp?: boolean
  /** Which errors thrown by the action count as failures (false: e.g. an upstream 4xx). @default every error */
  isFailure?: (err: unknown) => boolean
  /** Holds the breaker open while an upstream health check fails. @default none */
  healthCheck?: BreakerHealthCheck
  /** Which events `circuit_breaker_events_total` reports. @default all of BREAKER_EVENTS */
  events?: readonly BreakerEvent[]
}

/** Every option createBreaker knows; any other key is rejected. */
export const createBreakerOptionKeys = [
  'name',
  'registry',
  'timeoutMs',
  'resetTimeoutMs',
  'errorThresholdPercentage',
  'volumeThreshold',
  'rollingCountTimeoutMs',
  'rollingCountBuckets',
  'capacity',
  'allowWarmUp',
  'isFailure',
  'healthCheck',
  'events',
] as const satisfies readonly (keyof CreateBreakerOptions)[]

/** An opossum CircuitBreaker whose open rejections are BreakerOpenError, instrumented for Prometheus. */
export interface Breaker<TI extends unknown[] = unknown[], TR = unknown> extends CircuitBreaker<TI, TR> {
  /**
   * Whole seconds until the breaker will accept calls again (>= 1) while it refuses them: open, or half-open
   * with its trial in flight; 0 while it accepts calls.
   */
  retryAfterSeconds(): number
}

// setTimeout turns any larger delay into 1 ms.
const MAX_TIMER_MS = 2 ** 31 - 1
const timerBounds = { min: 1, max: MAX_TIMER_MS }
const STATES = ['closed', 'open', 'half_open'] as const
const OUTCOMES = ['success', 'failure', 'timeout', 'reject'] as const
const SUCCESS = 0
const FAILURE = 1
const TIMEOUT = 2
const REJECT = 3
/** opossum's event names and the `event` label each is counted under ('success' is counted per call). */
const COUNTED: ReadonlyArray<[string, BreakerEvent]> = [
  ['failure', 'failure'],
  ['timeout', 'timeout'],
  ['reject', 'reject'],
  ['fallback', 'fallback'],
  ['open', 'open'],
  ['halfOpen', 'half_open'],
  ['close', 'close'],
]

/** Counts per event and duration series per outcome are kept per name, so breakers sharing a name add up. */
interface NameEntry {
  counts: Record<BreakerEvent, number>
  events: Set<BreakerEvent>
  durations: HistogramSeries[]
  breakers: Set<InstrumentedBreaker>
}
const namesOf = perRegistry<Map<string, NameEntry>>()

function entryFor(registry: Registry, name: string): NameEntry {
  const names = namesOf(registry, () => new Map())
  registerFamilies(registry, names)
  const histogram = createFastHistogram({
    name: 'circuit_breaker_call_duration_seconds',
    help: 'Duration of calls through a circuit breaker, from fire() until the returned promise settles.',
    labelNames: ['name', 'outcome'],
    buckets: DURATION_BUCKETS_SECONDS,
    registry,
  })
  let entry = names.get(name)
  if (entry === undefined) {
    const counts = Object.fromEntries(BREAKER_EVENTS.map((e) => [e, 0])) as Record<BreakerEvent, number>
    const durations = OUTCOMES.map((outcome) => histogram.series(name, outcome))
    entry = { counts, events: new Set(), durations, breakers: new Set() }
    names.set(name, entry)
  }
  return entry
}

function registerFamilies(registry: Registry, names: Map<string, NameEntry>): void {
  registerOnce(
    registry,
    'circuit_breaker_state',
    () =>
      new Gauge({
        name: 'circuit_breaker_state',
        help: 'State of a circuit breaker, one-hot: 1 for the current state, 0 for the others.',
        labelNames: ['name', 'state'],
        registers: [],
        collect() {
          this.reset()
          for (const [name, entry] of names) {
            if (entry.breakers.size === 0) continue
            // Two live breakers under one name report the state of the most refusing one.
            let current = 0
            for (const b of entry.breakers) current = Math.max(current, b.opened ? 2 : b.halfOpen ? 1 : 0)
            const state = current === 2 ? 'open' : current === 1 ? 'half_open' : 'closed'
            for (const s of STATES) this.set({ name, state: s }, s === state ? 1 : 0)
          }
        },
      }),
  )
  registerOnce(
    registry,
    'circuit_breaker_events_total',
    () =>
      new Counter({
        name: 'circuit_breaker_events_total',
        help: 'Events of a circuit breaker, one increment per opossum event.',
        labelNames: ['name', 'event'],
        registers: [],
        collect() {
          this.reset()
          for (const [name, entry] of names) {
            for (const event of entry.events) this.inc({ name, event }, entry.counts[event])
          }
        },
      }),
  )
}

interface Resolved {
  name: string
  resetTimeoutMs: number
  healthCheck: Required<BreakerHealthCheck> | undefined
  isFailure: ((err: unknown) => boolean) | undefined
  /** Errors for which isFailure() returned false, filled by the errorFilter handed to opossum. */
  excused: WeakSet<object>
}

// The hot path reads the clock twice per call, and process.hrtime (its diff form gives seconds without
// subtracting large numbers) is the cheapest monotonic clock here: 31 ns a read against 49 ns for the global
// performance.now(). Captured at load, so fake timers in tests do not touch durations; state timing (open,
// retry-after) reads the global performance.now(), which fake timers drive together with opossum's timers.
const hrtime = process.hrtime
function secondsSince(start: [number, number]): number {
  const d = hrtime(start)
  return d[0] + d[1] / 1e9
}

function isOpossumError(err: unknown, code: string): boolean {
  return err != null && (err as { code?: unknown }).code === code && CircuitBreaker.isOurError(err as Error)
}

type Fallback = (...args: unknown[]) => unknown

class InstrumentedBreaker<TI extends unknown[] = unknown[], TR = unknown> extends CircuitBreaker<TI, TR> {
  readonly #entry: NameEntry
  readonly #resolved: Resolved
  readonly #counts: Record<BreakerEvent, number>
  readonly #successes: HistogramSeries
  /** This breaker's own rejection and timeout errors, to tell them from the same codes thrown by the action. */
  readonly #ownErrors = new WeakMap<object, number>()
  #fallback: Fallback | undefined
  #openedAt = 0
  #healthTimer: NodeJS.Timeout | undefined
  #healthFailing = false
  #openedByHealth = false
  #nextCheckAt = 0

  constructor(
    action: (...args: TI) => Promise<TR>,
    options: CircuitBreaker.Options<TI>,
    resolved: Resolved,
    entry: NameEntry,
  ) {
    super(action, options)
    this.#resolved = resolved
    this.#entry = entry
    this.#successes = entry.durations[SUCCESS]!
    const counts = entry.counts
    this.#counts = counts
    for (const [event, label] of COUNTED) {
      ;(this as EventEmitter).on(event, () => {
        counts[label]++
      })
    }
    const own = this.#ownErrors
    this.on('timeout', (err) => own.set(err, TIMEOUT))
    this.on('reject', (err) => own.set(err, REJECT))
    this.on('semaphoreLocked', (err) => own.set(err, REJECT))
    this.on('open', () => {
      this.#openedAt = performance.now()
    })
    this.on('halfOpen', () => {
      // opossum's reset timer knows nothing of the health check: keep refusing until a check passes.
      if (this.#healthFailing) {
        this.#openedByHealth = true
        this.open()
      }
    })
    if (resolved.healthCheck) this.#runHealthCheck(resolved.healthCheck)
  }

  // Per call: two clock reads, one chained promise, plain-number updates. Rarer events are counted by
  // listeners; 'success', the common one, here (an extra listener costs about 2% of a call).
  override call(context: unknown, ...rest: TI): Promise<TR> {
    const start = hrtime()
    return super.call(context, ...rest).then(
      (value) => {
        this.#successes.observe(secondsSince(start))
        // Disabled, opossum emits no events at all.
        if (this.enabled) this.#counts.success++
        return value as TR
      },
      (err: unknown) => this.#rejected(start, rest, err),
    ) as Promise<TR>
  }

  // opossum would run the fallback before the call settles, where the outcome of this call is not known yet;
  // running it here keeps the duration's outcome right and hands the fallback a BreakerOpenError.
  override fallback(func: Parameters<CircuitBreaker['fallback']>[0]): this {
    this.#fallback = func instanceof CircuitBreaker ? (...args) => func.fire(...args) : (func as Fallback)
    return this
  }

  retryAfterSeconds(): number {
    if (this.halfOpen && !this.pendingClose) return 1
    if (!this.opened) return 0
    const reset = this.#openedAt + this.#resolved.resetTimeoutMs
    const until = !this.#healthFailing
      ? reset
      : this.#openedByHealth
        ? this.#nextCheckAt
        : Math.max(reset, this.#nextCheckAt)
    return Math.max(1, Math.ceil((until - performance.now()) / 1000))
  }

  override shutdown(): void {
    clearTimeout(this.#healthTimer)
    this.#healthTimer = undefined
    this.#entry.breakers.delete(this as InstrumentedBreaker)
    super.shutdown()
  }

  #rejected(start: [number, number], args: unknown[], err: unknown): unknown {
    // Refused before 'fire' because the breaker was shut down: not a call of this breaker any more.
    if (this.isShutdown && isOpossumError(err, 'ESHUTDOWN')) throw err
    const own = typeof err === 'object' && err !== null ? this.#ownErrors.get(err) : undefined
    const outcome = own ?? (this.#countsAsFailure(err) ? FAILURE : SUCCESS)
    // An error isFailure() excused, which opossum reports as a success.
    if (outcome === SUCCESS) this.#counts.success++
    this.#entry.durations[outcome]!.observe(secondsSince(start))
    const failure = isOpossumError(err, 'EOPENBREAKER')
      ? new BreakerOpenError(this.#resolved.name, Math.max(1, this.retryAfterSeconds()))
      : err
    const fallback = this.#fallback
    if (outcome === SUCCESS || fallback === undefined || !this.enabled) throw failure
    const result = fallback.apply(fallback, [...args, failure])
    this.emit('fallback', result, failure)
    return result
  }

  #countsAsFailure(err: unknown): boolean {
    const { isFailure, excused } = this.#resolved
    // Disabled, opossum runs the action bare and asks no errorFilter.
    if (isFailure === undefined || !this.enabled || err == null) return true
    if (typeof err === 'object' && err !== null) return !excused.has(err)
    return safeIsFailure(isFailure, err)
  }

  #runHealthCheck({ check, intervalMs }: Required<BreakerHealthCheck>): void {
    const run = async (): Promise<void> => {
      this.#nextCheckAt = performance.now() + intervalMs
      let failure: unknown
      try {
        await withTimeLimit(check, intervalMs)
      } catch (err) {
        failure = err ?? new Error('health check failed')
      }
      if (this.isShutdown) return
      try {
        if (failure !== undefined) this.#healthFailed(failure)
        else this.#healthPassed()
      } catch {
        // A user's open/close listener threw; the next check must still run.
      }
      this.#healthTimer = setTimeout(run, Math.max(0, this.#nextCheckAt - performance.now()))
      this.#healthTimer.unref()
    }
    void run()
  }

  #healthFailed(err: unknown): void {
    this.#healthFailing = true
    this.emit('healthCheckFailed', err)
    if (!this.opened) {
      this.#openedByHealth = true
      this.open()
    }
  }

  #healthPassed(): void {
    if (!this.#healthFailing) return
    this.#healthFailing = false
    if (this.#openedByHealth) {
      this.#openedByHealth = false
      this.close()
    }
  }
}

/** A throwing isFailure() counts the error as a failure rather than breaking the call. */
function safeIsFailure(isFailure: (err: unknown) => boolean, err: unknown): boolean {
  try {
    return isFailure(err) !== false
  } catch {
    return true
  }
}

function withTimeLimit(check: () => Promise<unknown>, ms: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`health check did not answer within ${ms} ms`)), ms)
    timer.unref()
    Promise.resolve()
      .then(check)
      .then(resolve, reject)
      .finally(() => clearTimeout(timer))
  })
}

/**
 * Wraps `action` in an opossum 10 CircuitBreaker (the returned object is one: every opossum method and event
 * works) that reports `circuit_breaker_state`, `circuit_breaker_events_total` and
 * `circuit_breaker_call_duration_seconds` into `options.registry`, and rejects with BreakerOpenError while it
 * refuses calls. Calls are recorded in plain numbers and published at scrape time. Call `shutdown()` to stop
 * its timers and its state gauge.
 *
 * @example
 * const orders = createBreaker((id: string) => fetchOrder(id), { name: 'orders', registry, resetTimeoutMs: 10_000 })
 * const order = await orders.fire('42') // rejects with BreakerOpenError (503, retryAfterSeconds) while open
 */
export function createBreaker<TI extends unknown[], TR>(
  action: (...args: TI) => Promise<TR>,
  options: CreateBreakerOptions,
): Breaker<TI, TR> {
  requireFunction('action', action)
  const o = requireObject('options', options)
  rejectUnknownKeys('', o, createBreakerOptionKeys)
  const name = requireString('name', o.name)
  const registry = o.registry as Registry | undefined
  if (typeof registry?.registerMetric !== 'function' || typeof registry.getSingleMetric !== 'function') {
    throw new InvalidOptionError('registry', 'a prom-client Registry', registry)
  }
  const timeout =
    o.timeoutMs === false ? false : optionalNumber('timeoutMs', o.timeoutMs, 10_000, timerBounds)
  const resetTimeoutMs = optionalNumber('resetTimeoutMs', o.resetTimeoutMs, 30_000, timerBounds)
  const rollingMs = optionalNumber('rollingCountTimeoutMs', o.rollingCountTimeoutMs, 10_000, timerBounds)
  // opossum rotates a bucket every floor(rollingCountTimeout / rollingCountBuckets) ms: keep that >= 1.
  const buckets = optionalNumber('rollingCountBuckets', o.rollingCountBuckets, 10, {
    min: 1,
    max: rollingMs,
    integer: true,
  })
  const capacity = optionalNumber('capacity', o.capacity, undefined, { min: 1, integer: true })
  const isFailure = optionalFunction<(err: unknown) => boolean>('isFailure', o.isFailure)
  const hc = optionalObject('healthCheck', o.healthCheck)
  let healthCheck: Required<BreakerHealthCheck> | undefined
  if (hc) {
    rejectUnknownKeys('healthCheck', hc, ['check', 'intervalMs'])
    healthCheck = {
      check: requireFunction('healthCheck.check', hc.check),
      intervalMs: optionalNumber('healthCheck.intervalMs', hc.intervalMs, 5000, timerBounds),
    }
  }
  if (o.events !== undefined && !Array.isArray(o.events)) {
    throw new InvalidOptionError('events', `an array of ${BREAKER_EVENTS.join(', ')}`, o.events)
  }
  const events = ((o.events as unknown[] | undefined) ?? BREAKER_EVENTS).map((e) =>
    requireOneOf('events', e, BREAKER_EVENTS),
  )

  const excused = new WeakSet<object>()
  const opossumOptions: CircuitBreaker.Options<TI> = {
    name,
    timeout,
    resetTimeout: resetTimeoutMs,
    errorThresholdPercentage: optionalNumber('errorThresholdPercentage', o.errorThresholdPercentage, 50, {
      max: 100,
    }),
    volumeThreshold: optionalNumber('volumeThreshold', o.volumeThreshold, 0, { integer: true }),
    rollingCountTimeout: rollingMs,
    rollingCountBuckets: buckets,
    allowWarmUp: optionalBoolean('allowWarmUp', o.allowWarmUp, false),
    // The breaker's own errors (timeout, capacity) always count, whatever isFailure says of them.
    errorFilter: (err: unknown) => {
      if (isFailure === undefined || err == null || CircuitBreaker.isOurError(err as Error)) return false
      if (safeIsFailure(isFailure, err)) return false
      if (typeof err === 'object') excused.add(err)
      return true
    },
  }
  if (capacity !== undefined) opossumOptions.capacity = capacity

  const entry = entryFor(registry, name)
  for (const e of events) entry.events.add(e)
  const breaker = new InstrumentedBreaker(
    action,
    opossumOptions,
    { name, resetTimeoutMs, healthCheck, isFailure, excused },
    entry,
  )
  entry.breakers.add(breaker as InstrumentedBreaker)
  return breaker
}
