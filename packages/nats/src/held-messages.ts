import type { Delivery } from './delivery.js'

/**
 * The messages a worker holds, from arrival until acked, nak'ed or terminated: the ones waiting for a
 * handler slot, in arrival order, and the running ones. Both are kept alive on the server with `+WPI`.
 */
export class HeldMessages {
  readonly #all = new Set<Delivery>()
  #queue: (Delivery | undefined)[] = []
  #head = 0

  /** Messages waiting for a slot. */
  get queued(): number {
    return this.#queue.length - this.#head
  }

  /** Takes a message in; it runs now (`queue: false`) or waits its turn. */
  add(d: Delivery, queue: boolean): void {
    this.#all.add(d)
    if (queue) this.#queue.push(d)
  }

  /** The next waiting message, leaving the queue. */
  next(): Delivery | undefined {
    if (this.#head === this.#queue.length) return undefined
    const d = this.#queue[this.#head]!
    this.#queue[this.#head++] = undefined
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0
      this.#head = 0
    }
    return d
  }

  /** The message is settled: no longer held. */
  release(d: Delivery): void {
    this.#all.delete(d)
  }

  /** Empties the queue, passing each waiting message to `handBack`. */
  takeQueued(handBack: (d: Delivery) => void): void {
    for (let d = this.next(); d !== undefined; d = this.next()) {
      this.#all.delete(d)
      handBack(d)
    }
  }

  /** Resets the server's ack_wait for messages not touched for `staleMs`. */
  keepAlive(now: number, staleMs: number): void {
    for (const d of this.#all) if (now - d.touchedAt >= staleMs) d.working(now)
  }

  /** Forgets every message, passing the unsettled ones (running handlers) to `abandon`. */
  abandonAll(abandon: (d: Delivery) => void): void {
    for (const d of this.#all) if (!d.settled) abandon(d)
    this.#all.clear()
  }
}
