import { InvalidOrderError } from './errors.js'

/**
 * What the order service publishes on `orders.created` (the order as `POST /api/v1/orders` answers it). The
 * worker reads `id`, `amount` and `currency` and ignores any other field, so the service may add some.
 */
export interface OrderCreated {
  /** The order id: the email provider's `Idempotency-Key`, so one order is notified once. */
  id: string
  /** Integer cents. */
  amount: number
  /** ISO 4217 code, three capital letters. */
  currency: string
}

/** The provider's rule for idempotency keys: 1 to 255 visible ASCII characters. */
const ORDER_ID = /^[\x21-\x7e]{1,255}$/
const CURRENCY = /^[A-Z]{3}$/
const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * The worker's `decode`: turns a payload into an {@link OrderCreated} or throws {@link InvalidOrderError}.
 * A payload that throws here goes to the dead-letter subject at once: retrying cannot fix it.
 */
export function decodeOrderCreated(data: Uint8Array): OrderCreated {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(data))
  } catch (err) {
    throw new InvalidOrderError(`the payload is not UTF-8 JSON (${(err as Error).message})`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOrderError('the payload is not a JSON object')
  }
  const { id, amount, currency } = value as Record<string, unknown>
  if (typeof id !== 'string' || !ORDER_ID.test(id)) {
    throw new InvalidOrderError('"id" must be a string of 1 to 255 visible ASCII characters')
  }
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 0) {
    throw new InvalidOrderError('"amount" must be a non-negative integer (cents)')
  }
  if (typeof currency !== 'string' || !CURRENCY.test(currency)) {
    throw new InvalidOrderError('"currency" must be an ISO 4217 code (three capital letters)')
  }
  return { id, amount, currency }
}
