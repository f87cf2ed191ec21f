// Deliveries, kept in memory: one record per idempotency key, plus how often each key was tried.

import { randomUUID } from 'node:crypto'

/** A delivery request's content. */
export interface MessageInput {
  to: string
  subject: string
  body: string
}

/** A delivered notification, as the provider answers it and lists it. */
export interface DeliveredMessage extends MessageInput {
  /** The provider's id (`msg_<uuid>`). */
  id: string
  /** The `Idempotency-Key` it was delivered under. */
  idempotencyKey: string
  /** ISO 8601 time of the first (the only) delivery. */
  createdAt: string
}

/** A delivered notification with the number of `POST /v1/messages` that carried its key. */
export interface ListedMessage extends DeliveredMessage {
  deliveryAttempts: number
}

/** Counters over every `POST /v1/messages` since start or the last clear. */
export interface DeliveryStats {
  /** Every delivery request, whatever its outcome. */
  requests: number
  /** Requests that delivered a new notification (201). */
  delivered: number
  /** Requests whose key was already delivered: answered with the original record (200). */
  replayed: number
  /** Requests refused for a missing key or a bad body (400). */
  invalid: number
  /** Requests failed on purpose by `errorRate` (500). */
  injectedErrors: number
  /** Requests refused on purpose by an outage (`outageStatus`, or a dropped connection). */
  outageRejections: number
}

/** What `GET /v1/messages` answers. */
export interface MessageList {
  /** Number of delivered notifications listed. */
  count: number
  messages: ListedMessage[]
  /** Delivery attempts per idempotency key, including keys never delivered (every attempt failed). */
  attempts: Record<string, number>
  stats: DeliveryStats
}

/** The in-memory store behind the provider. */
export interface MessageStore {
  /** Counts one attempt for the key; call once per request that carries one. */
  countAttempt(key: string): void
  /** Counts a request that carried no usable key. */
  countRequestWithoutKey(): void
  /** Counts an outcome that delivered nothing. */
  countRejection(kind: 'invalid' | 'injectedErrors' | 'outageRejections'): void
  /** Delivers once per key: a repeated key returns the first record and `created: false`. */
  deliver(key: string, input: MessageInput): { message: DeliveredMessage; created: boolean }
  /** Lists deliveries in delivery order, optionally for one key. */
  list(idempotencyKey?: string): MessageList
  /** Forgets every delivery, attempt and counter. */
  clear(): void
}

/** Creates an empty store. Memory grows with the number of keys: the provider is for tests and demos. */
export function createMessageStore(): MessageStore {
  // A Map keeps insertion order, which is the delivery order the list promises.
  const messages = new Map<string, DeliveredMessage>()
  const attempts = new Map<string, number>()
  let stats = emptyStats()

  return {
    countAttempt(key) {
      stats.requests++
      attempts.set(key, (attempts.get(key) ?? 0) + 1)
    },
    countRequestWithoutKey() {
      stats.requests++
    },
    countRejection(kind) {
      stats[kind]++
    },
    deliver(key, input) {
      const existing = messages.get(key)
      if (existing) {
        stats.replayed++
        return { message: existing, created: false }
      }
      const message: DeliveredMessage = {
        id: `msg_${randomUUID()}`,
        idempotencyKey: key,
        to: input.to,
        subject: input.subject,
        body: input.body,
        createdAt: new Date().toISOString(),
      }
      messages.set(key, message)
      stats.delivered++
      return { message, created: true }
    },
    list(idempotencyKey) {
      const selected =
        idempotencyKey === undefined
          ? [...messages.values()]
          : [messages.get(idempotencyKey)].filter((m): m is DeliveredMessage => m !== undefined)
      const attemptEntries =
        idempotencyKey === undefined ? [...attempts] : [...attempts].filter(([key]) => key === idempotencyKey)
      return {
        count: selected.length,
        messages: selected.map((m) => ({ ...m, deliveryAttempts: attempts.get(m.idempotencyKey) ?? 0 })),
        attempts: Object.fromEntries(attemptEntries),
        stats: { ...stats },
      }
    },
    clear() {
      messages.clear()
      attempts.clear()
      stats = emptyStats()
    },
  }
}

function emptyStats(): DeliveryStats {
  return { requests: 0, delivered: 0, replayed: 0, invalid: 0, injectedErrors: 0, outageRejections: 0 }
}
