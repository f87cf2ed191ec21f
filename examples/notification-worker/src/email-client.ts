import { NotificationAbortedError, ProviderRejectedError, ProviderUnavailableError } from './errors.js'
import type { OrderCreated } from './order-event.js'

/** Options of {@link createEmailClient}. */
export interface EmailClientOptions {
  /** Base URL of the email provider (`http://127.0.0.1:8082`); `/v1/messages` is appended. */
  baseUrl: string
  /** A call not answered within this time is aborted and fails as unavailable. */
  requestTimeoutMs: number
  /** The `to` of every notification. */
  recipient: string
}

/** `delivered`: the provider recorded it now (201); `replayed`: it had it already under this key (200). */
export type SendOutcome = 'delivered' | 'replayed'

/** Sends order notifications to the email provider. */
export interface EmailClient {
  /**
   * `POST /v1/messages` with `Idempotency-Key` = the order id. Rejects with {@link ProviderUnavailableError}
   * (the provider's fault), {@link ProviderRejectedError} (the message's) or {@link NotificationAbortedError}
   * (`signal` aborted).
   */
  send(order: OrderCreated, signal?: AbortSignal): Promise<SendOutcome>
}

/** Statuses that mean "not now" rather than "never": the provider is overloaded or asked us to wait. */
const RETRYABLE_4XX = new Set([408, 425, 429])

/** Creates the client; the provider call the breaker wraps. */
export function createEmailClient(options: EmailClientOptions): EmailClient {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/v1/messages`
  const { requestTimeoutMs, recipient } = options

  return {
    async send(order, signal) {
      const timeout = AbortSignal.timeout(requestTimeoutMs)
      let response: Response
      let text: string
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': order.id },
          body: JSON.stringify(notificationFor(order, recipient)),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        })
        // Read the body whatever the status, so the keep-alive connection goes back to the pool.
        text = await response.text()
      } catch (err) {
        if (signal?.aborted) throw new NotificationAbortedError(err)
        const why = timeout.aborted ? `no answer within ${requestTimeoutMs} ms` : describe(err)
        throw new ProviderUnavailableError(`Email provider unreachable: ${why}`, undefined, err)
      }
      const status = response.status
      if (status === 201) return 'delivered'
      if (status === 200) return 'replayed'
      const detail = `POST ${url} answered ${status}: ${text.slice(0, 200)}`
      if (status >= 400 && status < 500 && !RETRYABLE_4XX.has(status)) {
        throw new ProviderRejectedError(detail, status)
      }
      throw new ProviderUnavailableError(detail, status)
    },
  }
}

/** The email for an order. Amounts are integer cents of the order's currency. */
export function notificationFor(order: OrderCreated, recipient: string) {
  const total = `${(order.amount / 100).toFixed(2)} ${order.currency}`
  return {
    to: recipient,
    subject: `Order ${order.id} confirmed`,
    body: `Thank you for your order ${order.id}. Total: ${total}.`,
  }
}

/** fetch's `TypeError: fetch failed` hides the socket error in `cause`. */
function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause
  if (typeof cause?.code === 'string') return cause.code
  return err instanceof Error ? err.message : String(err)
}
