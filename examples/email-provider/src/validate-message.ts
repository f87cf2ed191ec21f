// The delivery request's checks. Hand-written rather than a JSON schema so that each 400 names the field in
// words a client developer reads once and fixes, and so that Fastify's default type coercion cannot turn a
// wrong type into a delivered message.

import type { MessageInput } from './message-store.js'

const messageKeys = ['to', 'subject', 'body'] as const
const maxKeyLength = 255

/** Checks the `Idempotency-Key` header; returns the key or the message of the 400. */
export function parseIdempotencyKey(
  header: string | string[] | undefined,
): { key: string } | { error: string } {
  if (header === undefined || header === '') {
    return { error: 'the Idempotency-Key header is required: send a unique key per notification' }
  }
  if (Array.isArray(header)) return { error: 'send one Idempotency-Key header, not several' }
  if (header.length > maxKeyLength || !/^[\x21-\x7e]+$/.test(header)) {
    return { error: `the Idempotency-Key header must be 1 to ${maxKeyLength} visible ASCII characters` }
  }
  return { key: header }
}

/** Checks a delivery body; returns the message or the text of the 400, naming the field. */
export function parseMessageInput(input: unknown): { message: MessageInput } | { error: string } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { error: 'body must be a JSON object with to, subject and body' }
  }
  const record = input as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (!(messageKeys as readonly string[]).includes(key)) {
      return { error: `body.${key} is not a message field (expected to, subject, body)` }
    }
  }
  const { to, subject, body } = record
  if (typeof to !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(to) || to.length > 320) {
    return { error: 'body.to must be an email address (a string like name@example.com)' }
  }
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > 998) {
    return { error: 'body.subject must be a string of 1 to 998 characters' }
  }
  if (typeof body !== 'string' || body.length > 100_000) {
    return { error: 'body.body must be a string of at most 100000 characters' }
  }
  return { message: { to, subject, body } }
}
