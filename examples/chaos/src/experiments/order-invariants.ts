// The invariants every experiment is held to, counted from the system's own records rather than from what
// the clients saw: every order answered 201 exists exactly once in the database (under the id the client was
// given), and every order in the database, answered or not, ends with exactly one delivered notification.

import { setTimeout as sleep } from 'node:timers/promises'
import type { InvariantReport } from '../experiment.js'
import type { RequestSample } from '../load-driver.js'
import type { ChaosStack } from '../stack/chaos-stack.js'

/** The relay's claim lease (30 s), a poll of the relay and a delivery by the worker. */
const DELIVERY_TIMEOUT_MS = 45_000

/** Options of {@link verifyOrders}. */
export interface VerifyOrdersOptions {
  /**
   * Longest wait for the notifications of the orders found. @default 45000: an instance SIGKILLed in the
   * middle of a relay round keeps its outbox rows claimed for the relay's lease (30 s) before another
   * instance publishes them, so a shorter wait would count an order as lost that is only late.
   */
  deliveryTimeoutMs?: number
  /** Stops waiting when aborted (the runner's hook time limit). */
  signal?: AbortSignal
}

/** Orders the clients were told about, the rows behind them, and their notifications. */
export async function verifyOrders(
  stack: ChaosStack,
  samples: readonly RequestSample[],
  options: VerifyOrdersOptions = {},
): Promise<InvariantReport> {
  const sentKeys = [...new Set(samples.flatMap((s) => (s.tag && s.error !== 'DROPPED' ? [s.tag] : [])))]
  const accepted = samples.filter((s) => s.status === 201 && s.tag)
  const rows = await stack.db.ordersByKeys(sentKeys)
  const rowsByKey = new Map<string, string[]>()
  for (const row of rows)
    rowsByKey.set(row.idempotencyKey, [...(rowsByKey.get(row.idempotencyKey) ?? []), row.id])

  let lostOrders = 0
  let duplicated = 0
  for (const sample of accepted) {
    const ids = rowsByKey.get(sample.tag!) ?? []
    const answeredId = idOf(sample.body)
    if (ids.length === 0 || (answeredId !== undefined && !ids.includes(answeredId))) lostOrders++
  }
  for (const ids of rowsByKey.values()) if (ids.length > 1) duplicated += ids.length - 1

  const orderIds = [...new Set(rows.map((r) => r.id))]
  const delivery = await waitForNotifications(stack, orderIds, options)
  const unanswered = rows.length - accepted.filter((s) => rowsByKey.has(s.tag!)).length
  return {
    lost: lostOrders + delivery.missing,
    duplicated: duplicated + delivery.duplicated,
    details:
      `${accepted.length} answered 201, ${rows.length} in the database` +
      `${unanswered > 0 ? ` (${unanswered} from requests whose answer was not 201)` : ''}` +
      `, ${orderIds.length - delivery.missing}/${orderIds.length} notified` +
      `${lostOrders ? `, ${lostOrders} accepted orders missing` : ''}`,
  }
}

/** Waits until every id has a delivered notification, or the time is up. */
export async function waitForNotifications(
  stack: ChaosStack,
  orderIds: readonly string[],
  options: VerifyOrdersOptions = {},
): Promise<{ missing: number; duplicated: number; maxAttempts: number }> {
  const deadline = Date.now() + (options.deliveryTimeoutMs ?? DELIVERY_TIMEOUT_MS)
  for (;;) {
    const list = await stack.providerClient.messages()
    const delivered = new Map<string, number>()
    for (const m of list.messages) delivered.set(m.idempotencyKey, (delivered.get(m.idempotencyKey) ?? 0) + 1)
    const missing = orderIds.filter((id) => !delivered.has(id)).length
    if (missing === 0 || Date.now() >= deadline || options.signal?.aborted) {
      return {
        missing,
        duplicated: orderIds.reduce((n, id) => n + Math.max(0, (delivered.get(id) ?? 0) - 1), 0),
        maxAttempts: orderIds.reduce((n, id) => Math.max(n, list.attempts[id] ?? 0), 0),
      }
    }
    await sleep(250)
  }
}

function idOf(body: string | undefined): string | undefined {
  if (!body) return undefined
  try {
    const id = (JSON.parse(body) as { id?: unknown }).id
    return typeof id === 'string' ? id : undefined
  } catch {
    return undefined
  }
}
