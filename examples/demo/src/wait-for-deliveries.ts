// Waits, within a bound, until the fake email provider has delivered a notification for every order.

import { setTimeout as sleep } from 'node:timers/promises'
import type { DeliveryStats, MessageList } from '@goreliable/example-email-provider'

/** What the provider shows for the orders waited on. */
export interface DeliveryReport {
  /** Orders with a delivered notification (their id was the idempotency key). */
  delivered: number
  /** Order ids still without one when the wait ended. */
  missing: string[]
  /** The most delivery attempts any of the orders needed; 1 means no retry was needed. */
  maxAttempts: number
  /** The provider's counters. */
  stats: DeliveryStats | undefined
}

/**
 * Polls `GET /v1/messages` until every key has a delivery or `timeoutMs` passes. The notification worker
 * uses the order id as the provider's idempotency key, so the keys are the order ids.
 */
export async function waitForDeliveries(
  providerUrl: string,
  keys: readonly string[],
  timeoutMs = 30_000,
): Promise<DeliveryReport> {
  const deadline = Date.now() + timeoutMs
  let report: DeliveryReport = { delivered: 0, missing: [...keys], maxAttempts: 0, stats: undefined }
  for (;;) {
    try {
      const res = await fetch(`${providerUrl}/v1/messages`, { signal: AbortSignal.timeout(5000) })
      if (res.ok) report = summarize((await res.json()) as MessageList, keys)
    } catch {
      // The provider is ours and local; a failed poll is retried until the deadline.
    }
    if (report.missing.length === 0 || Date.now() >= deadline) return report
    await sleep(Math.min(250, Math.max(0, deadline - Date.now())))
  }
}

function summarize(list: MessageList, keys: readonly string[]): DeliveryReport {
  const byKey = new Map(list.messages.map((m) => [m.idempotencyKey, m]))
  let maxAttempts = 0
  const missing: string[] = []
  for (const key of keys) {
    const message = byKey.get(key)
    if (message) maxAttempts = Math.max(maxAttempts, message.deliveryAttempts)
    else missing.push(key)
  }
  return { delivered: keys.length - missing.length, missing, maxAttempts, stats: list.stats }
}
