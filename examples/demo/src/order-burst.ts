// The demo's traffic: a token from the gateway, then a short burst of orders, each with its own
// Idempotency-Key, and one retry of the first order to show that a retried request creates nothing new.

import { randomUUID } from 'node:crypto'

/** Options of {@link sendOrderBurst}. */
export interface OrderBurstOptions {
  /** The gateway's base URL, e.g. `http://127.0.0.1:8080`. */
  gatewayUrl: string
  /** @default 'demo' */
  clientId?: string
  /** @default 'demo-secret' */
  clientSecret?: string
  /** Orders to create. @default 20 */
  orders?: number
  /** Requests in flight at once. @default 4 */
  concurrency?: number
  /** Time allowed to each request. @default 10000 */
  requestTimeoutMs?: number
}

/** An order the gateway answered 201 for. */
export interface CreatedOrder {
  id: string
  idempotencyKey: string
  amount: number
  currency: string
}

/** What the burst did. */
export interface OrderBurstResult {
  requested: number
  created: CreatedOrder[]
  /** Requests that did not answer 201: status (0 when no answer) and the start of the reason. */
  failures: { status: number; message: string }[]
  /** Whether repeating the first request with its key returned the same order id (null when not tried). */
  retryReturnedSameId: boolean | null
}

/**
 * Gets a token with `POST /auth/token` (`{ client_id, client_secret }`, answered with `access_token`), then
 * sends the orders as `POST /api/v1/orders` `{ amount, currency: 'EUR' }` with a bearer token and an
 * `Idempotency-Key`. Throws when no token can be had; order failures are counted, not thrown.
 */
export async function sendOrderBurst(options: OrderBurstOptions): Promise<OrderBurstResult> {
  const count = options.orders ?? 20
  const concurrency = Math.max(1, options.concurrency ?? 4)
  const timeoutMs = options.requestTimeoutMs ?? 10_000
  const token = await fetchToken(options, timeoutMs)
  const created: CreatedOrder[] = []
  const failures: OrderBurstResult['failures'] = []
  const requests = Array.from({ length: count }, (_, i) => ({
    idempotencyKey: randomUUID(),
    // Amounts in cents, varied so the orders are told apart: 12.34 EUR, 24.68 EUR, ...
    amount: 1234 * (i + 1),
    currency: 'EUR',
  }))

  let next = 0
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++]!
      const answer = await postOrder(options.gatewayUrl, token, request, timeoutMs)
      if (answer.status === 201 && typeof answer.body?.id === 'string') {
        created.push({ ...request, id: answer.body.id })
      } else {
        failures.push({ status: answer.status, message: answer.message })
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))

  let retryReturnedSameId: boolean | null = null
  const first = created[0]
  if (first) {
    const { id: _id, ...request } = first
    const again = await postOrder(options.gatewayUrl, token, request, timeoutMs)
    retryReturnedSameId = again.body?.id === first.id
  }
  return { requested: count, created, failures, retryReturnedSameId }
}

async function fetchToken(options: OrderBurstOptions, timeoutMs: number): Promise<string> {
  const url = `${options.gatewayUrl}/auth/token`
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: options.clientId ?? 'demo',
        client_secret: options.clientSecret ?? 'demo-secret',
      }),
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (error) {
    throw new Error(`POST ${url} failed: ${reasonOf(error)}`)
  }
  const text = await res.text()
  const body = parseJson(text)
  const token = body?.access_token ?? body?.token
  if (res.status !== 200 || typeof token !== 'string') {
    throw new Error(`POST ${url} answered ${res.status} without an access_token: ${text.slice(0, 200)}`)
  }
  return token
}

async function postOrder(
  gatewayUrl: string,
  token: string,
  request: { idempotencyKey: string; amount: number; currency: string },
  timeoutMs: number,
): Promise<{ status: number; body: Record<string, unknown> | undefined; message: string }> {
  try {
    const res = await fetch(`${gatewayUrl}/api/v1/orders`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        'idempotency-key': request.idempotencyKey,
      },
      body: JSON.stringify({ amount: request.amount, currency: request.currency }),
      signal: AbortSignal.timeout(timeoutMs),
    })
    const text = await res.text()
    const body = parseJson(text)
    return { status: res.status, body, message: String(body?.message ?? text).slice(0, 200) }
  } catch (error) {
    return { status: 0, body: undefined, message: reasonOf(error) }
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text)
    return value && typeof value === 'object' ? value : undefined
  } catch {
    return undefined
  }
}

function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error as Error).message
}
