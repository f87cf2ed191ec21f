import type { Msg, MsgHdrs } from '@nats-io/transport-node'
import type { WorkerMessage } from './types.js'

// The JetStream acknowledgement protocol (ADR-8 of nats-architecture-and-design): the reply subject of a
// delivered message takes one of these payloads. Constant buffers, so an ack allocates nothing.
const ACK = Uint8Array.of(43, 65, 67, 75) // +ACK
const NAK = Uint8Array.of(45, 78, 65, 75) // -NAK
const WPI = Uint8Array.of(43, 87, 80, 73) // +WPI
const TERM = Uint8Array.of(43, 84, 69, 82, 77) // +TERM

/**
 * One message this worker holds, from its arrival until it is acked, nak'ed or terminated. The worker talks
 * to the server through it; the handler sees it as a read-only `WorkerMessage`.
 */
export class Delivery implements WorkerMessage {
  readonly msg: Msg
  failures = 0
  /** When the server last heard from us about this message (arrival or `+WPI`), for the keep-alive. */
  touchedAt: number
  /** performance.now() when its handler started (a plain number: hrtime() allocates an array). */
  startedAt = 0
  /** Handed back by stop() while its handler still ran: whatever the handler does next is ignored. */
  abandoned = false
  #settled = false
  #controller: AbortController | undefined
  #deliveryCount = 0
  #streamSequence = 0

  constructor(msg: Msg, now: number) {
    // The reply subject carries the delivery's numbers; it is split only when they are asked for, which
    // on the hot path (a first delivery that succeeds) they are not.
    if (!msg.reply?.startsWith('$JS.ACK.')) {
      throw new TypeError(`not a JetStream delivery (reply subject "${msg.reply ?? ''}")`)
    }
    this.msg = msg
    this.touchedAt = now
  }

  get deliveryCount(): number {
    if (this.#deliveryCount === 0) this.#parse()
    return this.#deliveryCount
  }

  get streamSequence(): number {
    if (this.#streamSequence === 0) this.#parse()
    return this.#streamSequence
  }

  /**
   * $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending> (9 tokens), or with
   * <domain>.<account hash> after ACK and a random token at the end (12 tokens, nats-server 2.10+).
   */
  #parse(): void {
    const tokens = (this.msg.reply ?? '').split('.')
    const offset = tokens.length === 9 ? 0 : 2
    this.#deliveryCount = Number(tokens[4 + offset]) || 1
    this.#streamSequence = Number(tokens[5 + offset]) || -1
  }

  get subject(): string {
    return this.msg.subject
  }

  get data(): Uint8Array {
    return this.msg.data
  }

  get headers(): MsgHdrs | undefined {
    return this.msg.headers
  }

  /** Created on first use: most handlers never look, and an AbortController per message is not free. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController()
    return this.#controller.signal
  }

  /** True once ack, nak or term was sent: the server owns the message again. */
  get settled(): boolean {
    return this.#settled
  }

  /**
   * Marks the message acked without telling the server yet; the worker sends a batch of acks with
   * `sendAck()` a moment later. False when it was settled already.
   */
  claimAck(): boolean {
    if (this.#settled) return false
    this.#settled = true
    return true
  }

  /** Sends the ack `claimAck()` decided. */
  sendAck(): void {
    this.msg.respond(ACK)
  }

  /** Asks for redelivery after `delayMs` (0: at once). nats-server 2.7.1+ honours the delay. */
  nak(delayMs: number): void {
    this.#reply(delayMs > 0 ? `-NAK {"delay":${Math.round(delayMs * 1e6)}}` : NAK)
  }

  /** Ends redelivery for good: the message counts as processed. */
  term(): void {
    this.#reply(TERM)
  }

  /** Resets the server's ack_wait timer for this message. */
  working(now: number): void {
    if (this.#settled) return
    this.touchedAt = now
    this.msg.respond(WPI)
  }

  abandon(): void {
    this.abandoned = true
    this.#controller?.abort(new Error('the worker stopped and handed this message back'))
  }

  #reply(payload: Uint8Array | string): void {
    if (this.#settled) return
    this.#settled = true
    // respond() returns false when the connection is closed; the server then redelivers after ack_wait,
    // which is the at-least-once contract, so there is nothing better to do here.
    this.msg.respond(payload)
  }
}
