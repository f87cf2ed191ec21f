// Idempotency-Key handling: the key's syntax, and the fingerprint that tells "the same request again"
// from "another request under a key already used".

import { createHash } from 'node:crypto'
import { HttpError, OrderServiceErrorCodes } from './http-errors.js'

/** 1 to 255 visible ASCII characters: a UUID, a ULID, or any client-chosen token. */
const KEY = /^[\x21-\x7e]{1,255}$/

/**
 * The request's `Idempotency-Key`, or undefined when it has none.
 * @throws HttpError 400 when the header is malformed or given twice.
 */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined
  if (typeof header !== 'string' || !KEY.test(header)) {
    throw new HttpError(
      400,
      OrderServiceErrorCodes.VALIDATION_FAILED,
      'Idempotency-Key must be 1 to 255 visible ASCII characters, given once',
      'Idempotency-Key',
    )
  }
  return header
}

/**
 * A digest of what the request asks for. The body has already been validated against a schema without
 * extra properties, so these two fields are all of it; hashing them in a fixed order makes
 * `{"currency":"EUR","amount":100}` the same request as `{"amount":100,"currency":"EUR"}`.
 */
export function requestFingerprint(input: { amount: number; currency: string }): string {
  return createHash('sha256').update(`${input.amount}\n${input.currency}`).digest('hex')
}
