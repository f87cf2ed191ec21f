import type { GoreliableHost } from '@goreliable/core'
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node'
import type { Registry } from 'prom-client'

/** A message as the handler sees it. */
export interface WorkerMessage {
  /** The subject the message was published to. */
  readonly subject: string
  /** The raw payload, before `decode`. */
  readonly data: Uint8Array
  /** The message's headers, if it has any. */
  readonly headers: MsgHdrs | undefined
  /** The message's sequence number in the stream: its identity. */
  readonly streamSequence: number
  /**
   * How many times the server has delivered this message, this time included. Breaker and shutdown
   * hand-backs count here too; `failures` does not count them.
   */
  readonly deliveryCount: number
  /** Handler failures this worker has counted against this message before this delivery. */
  readonly failures: number
  /** Aborts when `stop()` stops waiting for this handler and hands the message back to the server. */
  readonly signal: AbortSignal
}

/** Processes one message. Resolve to ack it; throw or reject to have it retried (or dead-lettered). */
export type WorkerHandler<T> = (payload: T, message: WorkerMessage) => unknown

/** Turns a payload into what the handler receives. Throwing sends the message to the dead-letter subject. */
export type WorkerDecode<T> = (data: Uint8Array, message: WorkerMessage) => T

/**
 * The part of a circuit breaker the worker uses. A breaker from `createBreaker()` of @goreliable/core fits
 * (any opossum breaker with a `retryAfterSeconds()` does).
 */
export interface WorkerBreaker {
  readonly opened: boolean
  readonly halfOpen: boolean
  /** Whole seconds until the breaker accepts calls again; 0 while it accepts them. */
  retryAfterSeconds(): number
  on(event: 'open' | 'halfOpen' | 'close', listener: () => void): unknown
  off(event: 'open' | 'halfOpen' | 'close', listener: () => void): unknown
}

/** The part of a pino logger the worker uses; a pino `Logger` fits. */
export interface WorkerLogger {
  debug?(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface WorkerOptions<T = unknown> {
  /** A connected `NatsConnection` (from `@nats-io/transport-node`'s `connect()`). */
  connection: NatsConnection
  /** The stream the consumer belongs to. */
  stream: string
  /**
   * The durable pull consumer to read, created beforehand with `ack_policy: explicit` and `max_deliver: -1`
   * (or more than `maxDeliver`). `start()` checks and rejects with `GR_ERR_NATS_CONSUMER_CONFIG`.
   */
  consumer: string
  /** Processes one message; see {@link WorkerHandler}. */
  handler: WorkerHandler<T>
  /**
   * Most handlers running at once.
   * @default 1
   */
  concurrency?: number
  /**
   * Most messages fetched ahead of free handler slots, so a slot never waits for a round trip to the
   * server. Within it the worker holds about one second of work at the handlers' recent pace (one message
   * per slot to start with): fast handlers get a deep pipeline, slow ones do not hoard a backlog that other
   * replicas could take. Waiting messages are kept alive with `+WPI` like running ones.
   * @default 256
   */
  prefetch?: number
  /**
   * Handler failures after which a message goes to `deadLetterSubject`. Breaker rejections and shutdown
   * hand-backs do not count.
   * @default 5
   */
  maxDeliver?: number
  /**
   * Redelivery delay after the first, second, … failure; the last one repeats.
   * @default [1000, 10000, 60000]
   */
  backoffMs?: readonly number[]
  /**
   * Where poison messages and undecodable payloads go, published with JetStream (a stream must store this
   * subject; `start()` checks). Without it they are terminated and logged.
   * @default none
   */
  deadLetterSubject?: string
  /**
   * The breaker around the handler's downstream call (the handler calls `breaker.fire()`). While it is
   * open the worker pulls nothing; while it is half-open it runs one message at a time.
   * @default none
   */
  breaker?: WorkerBreaker
  /**
   * Registry for the worker's metrics.
   * @default host.registry
   */
  registry?: Registry
  /**
   * Wires the worker into a service: metrics into `host.registry`, `stop()` as a shutdown closer, and a
   * readiness check of `connection`.
   * @default none
   */
  host?: GoreliableHost
  /**
   * pino-like logger: failures at warn, dead letters at error, pauses at info.
   * @default silent
   */
  logger?: WorkerLogger
  /**
   * Turns the payload into what the handler receives.
   * @default JSON.parse of the UTF-8 text
   */
  decode?: WorkerDecode<T>
  /**
   * How long `stop()` waits for running handlers when no `timeoutMs` is given, as in the shutdown closer.
   * @default 5000
   */
  stopTimeoutMs?: number
}

/** Where a worker is in its life. */
export type WorkerState = 'idle' | 'running' | 'paused' | 'probing' | 'stopping' | 'stopped'

/** What `stop()` resolves with. */
export interface WorkerStopResult {
  /** Messages whose handler was still running at the timeout; they were nak'ed for immediate redelivery. */
  abandoned: number
}

/** Why a message went to the dead-letter subject (the `Gr-Dead-Letter-Reason` header). */
export type DeadLetterReason = 'max_deliver' | 'decode'

export interface DeadLetterEvent {
  reason: DeadLetterReason
  subject: string
  streamSequence: number
  deliveryCount: number
  failures: number
  error: unknown
  /** false when there is no `deadLetterSubject` and the message was only terminated. */
  published: boolean
}

export interface WorkerEvents {
  /** The breaker opened: pulling stopped. */
  pause: [{ retryAfterSeconds: number }]
  /** Pulling resumed: `probing` one message at a time while half-open, `running` once closed. */
  resume: [{ state: 'running' | 'probing' }]
  /** A message left the stream for good without being handled. */
  deadLetter: [DeadLetterEvent]
}

export interface Worker {
  /**
   * Checks the consumer (and the dead-letter subject) and starts pulling. Rejects with
   * `GR_ERR_NATS_CONSUMER_CONFIG`, `GR_ERR_NATS_DEAD_LETTER` or `GR_ERR_NATS_WORKER_STOPPED`. Idempotent.
   */
  start(): Promise<void>
  /**
   * Stops pulling, hands back the messages waiting in the worker, waits up to `timeoutMs` for running
   * handlers, then hands back the rest (nak without delay, so another replica gets them at once).
   */
  stop(options?: { timeoutMs?: number }): Promise<WorkerStopResult>
  readonly state: WorkerState
  /** Handlers running right now. */
  readonly inFlight: number
  on<K extends keyof WorkerEvents>(event: K, listener: (...args: WorkerEvents[K]) => void): this
  off<K extends keyof WorkerEvents>(event: K, listener: (...args: WorkerEvents[K]) => void): this
}
