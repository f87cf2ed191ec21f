import type { Msg, NatsConnection } from '@nats-io/transport-node'
import { PullSession } from './pull-session.js'
import type { WorkerLogger } from './types.js'

/**
 * How long one pull request waits on the server. Short (the client library uses 30 s) because a request
 * left behind by a paused or stopped worker can swallow a redelivery on nats-server before 2.10.15 (see
 * PullSession); an idle worker pays one request every few seconds for it.
 */
export const EXPIRES_MS = 3_000
/** Server heartbeat while a request waits; two missed ones and the requests are presumed lost. */
export const HEARTBEAT_MS = 1_000
/** Added to a dead request's expiry before a hand-back may be redelivered: the server's clock started later. */
const STALE_MARGIN_MS = 250
/** After the server refuses a pull request (409, 400, 503), wait this long before asking again. */
const REFUSED_BACKOFF_MS = 1_000

export interface PullerOptions {
  connection: NatsConnection
  stream: string
  consumer: string
  logger: WorkerLogger
  receive(msg: Msg): void
  /** Room was made (a request expired): ask again. */
  pump(): void
}

/**
 * The worker's side of the pull protocol: at most one open session, the sessions it closed until their
 * requests have expired on the server, and how many messages to ask for.
 */
export class Puller {
  readonly #o: PullerOptions
  #session: PullSession | undefined
  /** Closed sessions whose requests may still wait on the server. */
  #retired: PullSession[] = []
  #refusedUntil = 0
  #status: AsyncIterable<unknown> | undefined

  constructor(o: PullerOptions) {
    this.#o = o
  }

  /** Opens a session unless one is open. */
  open(): void {
    const o = this.#o
    this.#session ??= new PullSession({
      connection: o.connection,
      stream: o.stream,
      consumer: o.consumer,
      expiresMs: EXPIRES_MS,
      heartbeatMs: HEARTBEAT_MS,
      hooks: {
        message: o.receive,
        ended: o.pump,
        status: (code, description) => {
          this.#refusedUntil = performance.now() + REFUSED_BACKOFF_MS
          o.logger.warn({ code, description }, 'the server refused a pull request')
        },
      },
    })
  }

  /** Ends the open session (it drains); it is remembered until its requests have expired on the server. */
  retire(): Promise<void> | undefined {
    const s = this.#session
    if (s === undefined) return undefined
    this.#session = undefined
    this.#retired.push(s)
    return s.close()
  }

  /**
   * Asks for as many messages as there is room for: `free` slots (capacity minus running minus queued)
   * less what open requests will still bring. In batches of at least `minBatch`, unless nothing else
   * would come (no open request, nothing queued): one request per freed slot costs a request per message.
   * True when it asked.
   */
  pump(free: number, queued: number, minBatch: number): boolean {
    const s = this.#session
    if (s === undefined) return false
    const room = free - s.outstanding
    if (room <= 0 || (room < minBatch && (s.outstanding > 0 || queued > 0))) return false
    if (this.#refusedUntil !== 0) {
      if (performance.now() < this.#refusedUntil) return false
      this.#refusedUntil = 0
    }
    s.request(room)
    return true
  }

  /**
   * The delay for a message handed back now: `minMs`, or longer while a request of a closed session may
   * still wait on the server and swallow the redelivery (see PullSession).
   */
  handBackDelayMs(minMs: number): number {
    if (this.#retired.length === 0) return minMs
    const now = performance.now()
    let until = 0
    this.#retired = this.#retired.filter((s) => {
      const u = s.staleUntil()
      if (u > now) until = Math.max(until, u)
      return u > now
    })
    return until > 0 ? Math.max(minMs, until - now + STALE_MARGIN_MS) : minMs
  }

  /** After a reconnect the server may have forgotten the open requests (a restarted server does). */
  watchReconnects(onReconnect: () => void): void {
    const status = this.#o.connection.status()
    this.#status = status
    void (async () => {
      try {
        for await (const s of status) {
          if (s.type === 'reconnect' && this.#session) {
            this.#session.reset()
            onReconnect()
          }
        }
      } catch {
        // The connection closed; nothing to watch.
      }
    })()
  }

  /** Forgets open requests that went quiet for two heartbeats (and a second): the server lost them. */
  checkHeartbeats(now: number): void {
    const s = this.#session
    if (s && s.outstanding > 0 && now - s.lastHeardAt > 2 * HEARTBEAT_MS + 1000) {
      this.#o.logger.warn({ outstanding: s.outstanding }, 'pull heartbeats missed; asking again')
      s.reset()
    }
  }

  /** Stops watching the connection. */
  close(): void {
    ;(this.#status as { stop?: () => void } | undefined)?.stop?.()
  }
}
