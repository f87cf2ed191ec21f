// Runs the k6 scenario with autocannon: one single-connection autocannon run per virtual user (see
// planSlots), each request a new order with its own Idempotency-Key, every response checked as the k6
// script checks it.

import { randomBytes } from 'node:crypto'
import autocannon from 'autocannon'
import { planSlots, type Slot, type Stage, totalSeconds } from './stages.js'
import type { LoadStats } from './thresholds.js'
import { keepToken } from './token.js'

/** Options of {@link runLoad}. */
export interface RunLoadOptions {
  /** The gateway, without a trailing slash. */
  baseUrl: string
  clientId: string
  clientSecret: string
  stages: readonly Stage[]
  /**
   * Requests per second per connection. 1 matches the k6 script, whose virtual users think 0.5 to 1.5 s
   * between orders.
   */
  ratePerConnection: number
  /** A request without an answer after this many seconds is a failed request. */
  timeoutSeconds: number
  /**
   * A connection still sending this long after its planned end is stopped (k6's `gracefulRampDown`
   * default): a slow gateway stretches the run, but not forever.
   */
  gracefulStopSeconds: number
  /** Progress lines. */
  log: (line: string) => void
}

/** Currencies and amount range the k6 script sends (integer cents). */
const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF']
const MIN_AMOUNT_CENTS = 100
const MAX_AMOUNT_CENTS = 500_000

/** Fetches a token, runs every slot on schedule, and returns what it measured. Throws when refused a token. */
export async function runLoad(o: RunLoadOptions): Promise<LoadStats> {
  const keeper = await keepToken(o.baseUrl, o.clientId, o.clientSecret, (err) =>
    o.log(`token renewal failed, keeping the current token: ${err.message}`),
  )
  const stats: LoadStats = {
    requests: 0,
    failedRequests: 0,
    orderErrors: 0,
    durationsMs: [],
    statuses: {},
    elapsedSeconds: 0,
  }
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
  let sequence = 0
  const nextKey = () => `load-${runId}-${++sequence}`
  const slots = planSlots(o.stages, o.ratePerConnection)
  const planned = totalSeconds(o.stages)
  o.log(
    `${slots.length} connections, ${slots.reduce((n, s) => n + s.requests, 0)} orders planned over ${planned} s`,
  )

  const started = performance.now()
  let live = 0
  const elapsed = () => (performance.now() - started) / 1000
  const progressMs = Math.min(15, Math.max(1, Math.round(planned / 8))) * 1000
  const progress = setInterval(() => {
    o.log(
      `${elapsed().toFixed(0).padStart(4)} s  connections ${String(live).padStart(4)}  orders ${stats.requests}  order errors ${stats.orderErrors}`,
    )
  }, progressMs).unref()
  try {
    await Promise.all(
      slots.map(async (slot) => {
        const delayMs = slot.startSeconds * 1000 - (performance.now() - started)
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
        live++
        try {
          await runSlot(o, slot, stats, nextKey, keeper.current)
        } finally {
          live--
        }
      }),
    )
  } finally {
    clearInterval(progress)
    keeper.stop()
  }
  stats.elapsedSeconds = elapsed()
  return stats
}

function runSlot(
  o: RunLoadOptions,
  slot: Slot,
  stats: LoadStats,
  nextKey: () => string,
  token: () => string,
): Promise<void> {
  const count = (status: string) => {
    stats.statuses[status] = (stats.statuses[status] ?? 0) + 1
  }
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.baseUrl,
        connections: 1,
        amount: slot.requests,
        connectionRate: o.ratePerConnection,
        timeout: o.timeoutSeconds,
        requests: [
          {
            method: 'POST',
            path: '/api/v1/orders',
            setupRequest: (request) => {
              const amount =
                MIN_AMOUNT_CENTS + Math.floor(Math.random() * (MAX_AMOUNT_CENTS - MIN_AMOUNT_CENTS + 1))
              const currency = CURRENCIES[Math.floor(Math.random() * CURRENCIES.length)]
              return {
                ...request,
                headers: {
                  'content-type': 'application/json',
                  authorization: `Bearer ${token()}`,
                  // Unique per attempt: this scenario creates orders (a retry of one order would reuse it).
                  'idempotency-key': nextKey(),
                },
                body: JSON.stringify({ amount, currency }),
              }
            },
            // The k6 checks: 201, and an id in the body.
            onResponse: (status, body) => {
              if (status !== 201 || !hasId(body)) stats.orderErrors++
            },
          },
        ],
      },
      (err) => {
        clearTimeout(cap)
        if (err) reject(err)
        else resolve()
      },
    )
    const cap = setTimeout(
      () => {
        o.log(`a connection was still sending ${o.gracefulStopSeconds} s after its planned end: stopped`)
        instance.stop()
      },
      (slot.durationSeconds + o.gracefulStopSeconds) * 1000,
    )
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      stats.requests++
      if (statusCode < 200 || statusCode >= 400) stats.failedRequests++
      stats.durationsMs.push(responseTime)
      count(String(statusCode))
    })
    // No response at all (timeout, reset, refused): a failed request and a failed order.
    instance.on('reqError', () => {
      stats.requests++
      stats.failedRequests++
      stats.orderErrors++
      count('error')
    })
  })
}

function hasId(body: string): boolean {
  try {
    const id = (JSON.parse(body) as { id?: unknown } | null)?.id
    return id !== undefined && id !== null && id !== ''
  } catch {
    return false
  }
}
