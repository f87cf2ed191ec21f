/** How much queued work the worker aims to hold beyond its running handlers, in handler time. */
export const QUEUE_TARGET_MS = 1000
/** Weight of the newest handler duration in the moving average. */
const ALPHA = 0.2

/**
 * How many messages to fetch ahead of free handler slots: about `QUEUE_TARGET_MS` of work at the handlers'
 * recent pace, at most `max`. Fast handlers need a deep pipeline to keep up with the server (a bare
 * `consume()` loop keeps 100 requested); slow ones must not hoard a backlog that new replicas could share.
 * It starts as if each message took `QUEUE_TARGET_MS` (one message ahead per slot) and widens as
 * handlers prove fast: after some 30 quick ones it reaches `max`.
 */
export class PrefetchWindow {
  readonly #concurrency: number
  readonly #max: number
  #averageMs = QUEUE_TARGET_MS

  constructor(concurrency: number, max: number) {
    this.#concurrency = concurrency
    this.#max = max
  }

  /** Records how long one handler took. */
  observe(ms: number): void {
    this.#averageMs += (ms - this.#averageMs) * ALPHA
  }

  /** Messages to hold beyond the running ones, now. */
  get size(): number {
    const byTime = Math.floor((QUEUE_TARGET_MS * this.#concurrency) / Math.max(this.#averageMs, 0.001))
    return Math.min(this.#max, byTime)
  }
}
