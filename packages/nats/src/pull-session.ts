import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node'

/** How a pull session reports what the server said about its requests. */
export interface PullSessionHooks {
  /** A delivered message (not a status). */
  message(msg: Msg): void
  /** A status the server sent on a pull request that the worker should know of (409, 400, 503…). */
  status(code: number, description: string): void
  /** A request ended with messages it never delivered (it expired): there is room to ask again. */
  ended(): void
}

export interface PullSessionOptions {
  connection: NatsConnection
  stream: string
  consumer: string
  /** How long one pull request waits on the server for messages. */
  expiresMs: number
  /** How often the server sends a heartbeat while a request waits. */
  heartbeatMs: number
  hooks: PullSessionHooks
}

/**
 * Pull requests on one inbox subscription, with the count of messages asked for and not yet received.
 *
 * The worker asks for exactly as many messages as it has room for, so it holds at most `concurrency +
 * prefetch` messages. `consume()` of @nats-io/jetstream cannot do that at full speed: with a callback it
 * pulls as soon as messages arrive, however far the handlers lag, and its iterator form (which does wait
 * for the reader) ran at a quarter of the callback's speed here. This speaks the documented pull protocol
 * (`$JS.API.CONSUMER.MSG.NEXT`) instead, as every JetStream client does underneath.
 *
 * Ending a session drains its subscription: drain() still hands over whatever the server sent before it
 * saw the UNSUB, so no message is left in flight towards a dead inbox. The server forgets a request whose
 * inbox lost its interest only when it next tries to deliver to it or the request expires, and before
 * nats-server 2.10.15 a redelivered message that meets such a request is held until ack_wait and its
 * successor delivered twice (nats-server#5305, #5338; reproduced on 2.9.10). Hence short requests, and
 * `staleUntil`: until then a message handed back could meet one of this session's dead requests.
 */
export class PullSession {
  /** Messages asked for by requests that are still open. */
  outstanding = 0
  /** performance.now() of the last message, status or heartbeat, or of the last request when waiting. */
  lastHeardAt: number
  #lastRequestAt = Number.NEGATIVE_INFINITY
  /** A request was refused or forgotten: whether some of ours still wait on the server is unknown. */
  #unsure = false
  readonly #expiresMs: number
  readonly #nc: NatsConnection
  readonly #inbox: string
  readonly #nextSubject: string
  readonly #sub: Subscription
  readonly #hooks: PullSessionHooks
  readonly #requestSuffix: string
  #closing: Promise<void> | undefined

  constructor(o: PullSessionOptions) {
    this.#nc = o.connection
    this.#hooks = o.hooks
    this.#expiresMs = o.expiresMs
    const prefix = (o.connection as { options?: { inboxPrefix?: string } }).options?.inboxPrefix
    this.#inbox = createInbox(prefix)
    this.#nextSubject = `$JS.API.CONSUMER.MSG.NEXT.${o.stream}.${o.consumer}`
    this.#requestSuffix = `,"expires":${o.expiresMs * 1e6},"idle_heartbeat":${o.heartbeatMs * 1e6}}`
    this.lastHeardAt = performance.now()
    this.#sub = o.connection.subscribe(this.#inbox, {
      callback: (err, msg) => {
        if (err) {
          // A permissions violation on the inbox: the subscription is gone, and so are its requests.
          this.reset()
          this.#hooks.status(403, err.message)
          return
        }
        this.#receive(msg)
      },
    })
  }

  get closing(): boolean {
    return this.#closing !== undefined
  }

  /** Asks the server for up to `batch` more messages. */
  request(batch: number): void {
    if (this.#closing || batch <= 0) return
    const now = performance.now()
    if (this.outstanding === 0) this.lastHeardAt = now
    this.#lastRequestAt = now
    this.outstanding += batch
    this.#nc.publish(this.#nextSubject, `{"batch":${batch}${this.#requestSuffix}`, { reply: this.#inbox })
  }

  /** Forgets the open requests (after a reconnect, or missed heartbeats: the server may have lost them). */
  reset(): void {
    this.outstanding = 0
    this.#unsure = true
  }

  /**
   * Until when a request of this session may still wait on the server (performance.now() time; 0 when
   * none can). After close(), a message handed back before then could be delivered to it and lost until
   * ack_wait on servers before 2.10.15.
   */
  staleUntil(): number {
    return this.outstanding > 0 || this.#unsure ? this.#lastRequestAt + this.#expiresMs : 0
  }

  /** Stops asking and drains the subscription; messages already on their way still reach `hooks.message`. */
  close(): Promise<void> {
    this.#closing ??= this.#sub.drain().then(
      () => undefined,
      // The connection closed first: nothing more can arrive.
      () => undefined,
    )
    return this.#closing
  }

  #receive(msg: Msg): void {
    this.lastHeardAt = performance.now()
    // Messages arrive under their own subject; statuses of the requests come on the inbox itself.
    if (msg.subject !== this.#inbox) {
      if (this.outstanding > 0) this.outstanding--
      this.#hooks.message(msg)
      return
    }
    const code = msg.headers?.code ?? 0
    if (code === 100) return // idle heartbeat: the requests are alive
    const left = Number(msg.headers?.get('Nats-Pending-Messages') || 0)
    if (code === 404 || code === 408 || left > 0) {
      // A request ended (expired, or cut short) with `left` messages it never delivered.
      this.outstanding = Math.max(0, this.outstanding - left)
      if (code === 404 || code === 408) {
        this.#hooks.ended()
        return
      }
    } else {
      // Refused outright (409 max waiting or batch exceeded, consumer deleted; 400; 503): how much it asked
      // for is unknown, so start counting afresh rather than wait forever for messages that will not come.
      this.reset()
    }
    this.#hooks.status(code, msg.headers?.description ?? '')
  }
}
