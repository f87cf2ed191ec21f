import type { Delivery } from './delivery.js'
import type { WorkerBreaker } from './types.js'

/** What to do with a message whose handler failed. */
export type FailureDecision =
  | { action: 'retry'; delayMs: number; counted: boolean }
  | { action: 'dead_letter' }

export interface FailurePolicy {
  maxDeliver: number
  backoffMs: readonly number[]
  /** The consumer's own max_deliver; -1 or 0 for none. */
  serverMaxDeliver: number
  breaker: WorkerBreaker | undefined
}

/**
 * Decides between retry and dead letter, and whether the failure counts toward `maxDeliver`.
 *
 * The worker, not the server, counts failures (see README, "Redeliveries"): a delivery that failed because
 * of the downstream rather than the message never counts. That is one that hit the open breaker
 * (`GR_ERR_BREAKER_OPEN`), or whose failure left the breaker open: the call that tripped it, or the
 * half-open trial that re-opened it. Such a message is handed back with the breaker's retry-after. The one
 * exception is the server's last delivery (the consumer's max_deliver): handed back, it would be dropped,
 * so it goes to the dead-letter subject whatever the cause.
 *
 * Mutates `d.failures` when the failure counts.
 */
export function decideFailure(d: Delivery, err: unknown, p: FailurePolicy): FailureDecision {
  const lastServerDelivery = p.serverMaxDeliver > 0 && d.deliveryCount >= p.serverMaxDeliver
  if (lastServerDelivery) {
    d.failures++
    return { action: 'dead_letter' }
  }
  if (isBreakerRejection(err) || p.breaker?.opened === true) {
    return { action: 'retry', delayMs: breakerDelayMs(p.breaker, err), counted: false }
  }
  d.failures++
  if (d.failures >= p.maxDeliver) return { action: 'dead_letter' }
  const delayMs = p.backoffMs[Math.min(d.failures, p.backoffMs.length) - 1]!
  return { action: 'retry', delayMs, counted: true }
}

/** How long to hand a message back for while the breaker refuses calls: its retry-after, at least 1 s. */
export function breakerDelayMs(breaker: WorkerBreaker | undefined, err?: unknown): number {
  const fromBreaker = breaker?.retryAfterSeconds() ?? 0
  const fromError = (err as { retryAfterSeconds?: unknown } | null | undefined)?.retryAfterSeconds
  return Math.max(1, fromBreaker, typeof fromError === 'number' ? fromError : 0) * 1000
}

/** A BreakerOpenError from core (or opossum's own), possibly wrapped by the handler as a `cause`. */
export function isBreakerRejection(err: unknown): boolean {
  let e = err as { code?: unknown; cause?: unknown } | null | undefined
  for (let depth = 0; depth < 4 && e != null && typeof e === 'object'; depth++) {
    if (e.code === 'GR_ERR_BREAKER_OPEN' || e.code === 'EOPENBREAKER') return true
    e = e.cause as typeof e
  }
  return false
}

/**
 * Counted failures per stream sequence, bounded: past `size` entries the oldest is forgotten (a message
 * that failed long ago and went to another replica). A restart forgets everything; README says so.
 */
export class FailureMemory {
  readonly #map = new Map<number, number>()
  readonly #size: number

  constructor(size: number) {
    this.#size = size
  }

  /** Most workers see no failures at all: the hot path asks this before looking anything up. */
  get empty(): boolean {
    return this.#map.size === 0
  }

  get(seq: number): number {
    return this.#map.get(seq) ?? 0
  }

  set(seq: number, failures: number): void {
    const map = this.#map
    if (!map.has(seq) && map.size >= this.#size) map.delete(map.keys().next().value!)
    map.set(seq, failures)
  }

  delete(seq: number): void {
    if (this.#map.size > 0) this.#map.delete(seq)
  }
}
