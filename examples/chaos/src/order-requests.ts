import { randomUUID } from 'node:crypto'
import { InvalidOptionError, validate } from '@goreliable/core'
import type { RequestSpec } from './load-driver.js'

/** Options of {@link orderRequests}. */
export interface OrderRequestsOptions {
  /** The bearer token, or a function that returns the current one (tokens are short-lived: refresh it elsewhere). */
  token: string | (() => string)
  /** The order route. @default '/api/v1/orders' */
  path?: string
  /** Currencies to pick from, in turn. @default ['EUR', 'USD', 'GBP'] */
  currencies?: readonly string[]
  /** Smallest amount in cents. @default 100 */
  minAmountCents?: number
  /** Largest amount in cents. @default 100000 */
  maxAmountCents?: number
}

/** Every option key of {@link orderRequests}. */
export const orderRequestsOptionKeys = [
  'token',
  'path',
  'currencies',
  'minAmountCents',
  'maxAmountCents',
] as const

/**
 * A request generator for the load driver that creates orders: `POST` with `Authorization: Bearer …`, a
 * fresh `Idempotency-Key` per request (also the sample's `tag`, to match answers with rows later) and a JSON
 * body `{ amount, currency }`.
 */
export function orderRequests(options: OrderRequestsOptions): (index: number) => RequestSpec {
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, orderRequestsOptionKeys)
  const token = o.token
  if (typeof token !== 'function' && (typeof token !== 'string' || token.length === 0)) {
    throw new InvalidOptionError('token', 'a non-empty string or a function', token)
  }
  const path = validate.optionalString('path', o.path, '/api/v1/orders')
  const currencies = (o.currencies ?? ['EUR', 'USD', 'GBP']) as readonly string[]
  if (
    !Array.isArray(currencies) ||
    currencies.length === 0 ||
    !currencies.every((c) => typeof c === 'string')
  ) {
    throw new InvalidOptionError('currencies', 'a non-empty array of currency codes', currencies)
  }
  const min = validate.optionalNumber('minAmountCents', o.minAmountCents, 100, { min: 1, integer: true })
  const max = validate.optionalNumber('maxAmountCents', o.maxAmountCents, 100_000, { min, integer: true })
  const tokenOf = typeof token === 'function' ? (token as () => string) : () => token as string
  return (index) => {
    const key = randomUUID()
    return {
      method: 'POST',
      path,
      headers: { authorization: `Bearer ${tokenOf()}`, 'idempotency-key': key },
      body: {
        amount: min + Math.floor(Math.random() * (max - min + 1)),
        currency: currencies[index % currencies.length],
      },
      tag: key,
    }
  }
}
