import type { JetStreamClient } from '@nats-io/jetstream'
import { headers as createHeaders, type MsgHdrs } from '@nats-io/transport-node'
import type { Delivery } from './delivery.js'
import { messageOf } from './errors.js'
import type { DeadLetterReason } from './types.js'

/** The headers a dead letter carries, besides the original message's own. */
export const DEAD_LETTER_HEADERS = {
  reason: 'Gr-Dead-Letter-Reason',
  subject: 'Gr-Original-Subject',
  stream: 'Gr-Original-Stream',
  consumer: 'Gr-Original-Consumer',
  sequence: 'Gr-Original-Sequence',
  msgId: 'Gr-Original-Msg-Id',
  deliveryCount: 'Gr-Delivery-Count',
  failures: 'Gr-Failure-Count',
  error: 'Gr-Last-Error',
  errorCode: 'Gr-Last-Error-Code',
} as const

/** A header value must stay on one line, and a long stack-like message helps nobody in a header. */
const MAX_ERROR_LENGTH = 1024

export interface DeadLetterInput {
  stream: string
  consumer: string
  reason: DeadLetterReason
  error: unknown
}

/**
 * Publishes a copy of the message to the dead-letter subject and waits for the server's ack. The copy keeps
 * the payload and the application's headers; headers the server interprets (`Nats-*`: expectations, TTL,
 * rollup) are left out so they cannot make the copy fail, the original `Nats-Msg-Id` is kept under
 * `Gr-Original-Msg-Id`, and the copy's own `Nats-Msg-Id` is derived from the stream and sequence, so a dead
 * letter published twice (the term was lost, the message came back) is stored once.
 */
export async function publishDeadLetter(
  js: JetStreamClient,
  subject: string,
  d: Delivery,
  input: DeadLetterInput,
): Promise<void> {
  await js.publish(subject, d.data, {
    headers: deadLetterHeaders(d, input),
    msgID: `gr-dead-letter:${input.stream}:${d.streamSequence}`,
  })
}

function deadLetterHeaders(d: Delivery, input: DeadLetterInput): MsgHdrs {
  const h = createHeaders()
  const original = d.headers
  if (original) {
    for (const [key, values] of original) {
      if (key.toLowerCase().startsWith('nats-')) continue
      for (const v of values) h.append(key, v)
    }
    const msgId = original.get('Nats-Msg-Id')
    if (msgId) h.set(DEAD_LETTER_HEADERS.msgId, msgId)
  }
  h.set(DEAD_LETTER_HEADERS.reason, input.reason)
  h.set(DEAD_LETTER_HEADERS.subject, d.subject)
  h.set(DEAD_LETTER_HEADERS.stream, input.stream)
  h.set(DEAD_LETTER_HEADERS.consumer, input.consumer)
  h.set(DEAD_LETTER_HEADERS.sequence, String(d.streamSequence))
  h.set(DEAD_LETTER_HEADERS.deliveryCount, String(d.deliveryCount))
  h.set(DEAD_LETTER_HEADERS.failures, String(d.failures))
  h.set(DEAD_LETTER_HEADERS.error, messageOf(input.error).slice(0, MAX_ERROR_LENGTH))
  const code = (input.error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && /^[\w.-]{1,100}$/.test(code)) h.set(DEAD_LETTER_HEADERS.errorCode, code)
  return h
}
