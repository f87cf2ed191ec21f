import { EventEmitter } from 'node:events'
import { validate } from '@goreliable/core'
import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { Msg } from '@nats-io/transport-node'
import { registerNatsBuildInfo } from './build-info.js'
import { checkConsumer } from './consumer-check.js'
import { publishDeadLetter } from './dead-letter.js'
import { withinDeadline } from './deadline.js'
import { Delivery } from './delivery.js'
import { DeadLetterError, DecodeError, WorkerStoppedError } from './errors.js'
import { breakerDelayMs, decideFailure, FailureMemory } from './failure-policy.js'
import { HeldMessages } from './held-messages.js'
import { wireHost } from './host-wiring.js'
import { PrefetchWindow } from './prefetch-window.js'
import { HEARTBEAT_MS, Puller } from './puller.js'
import type {
  DeadLetterReason,
  Worker,
  WorkerEvents,
  WorkerOptions,
  WorkerState,
  WorkerStopResult,
} from './types.js'
import { type PairMetrics, pairMetrics } from './worker-metrics.js'
import { type ResolvedWorkerOptions, resolveWorkerOptions } from './worker-options.js'

/** Messages whose failures the worker remembers; the oldest is forgotten first. */
const FAILURE_MEMORY = 10_000

/**
 * Creates a worker that reads a durable JetStream pull consumer: at most `concurrency` handlers at once,
 * ack on success, nak with backoff on failure, dead letter after `maxDeliver` failures, no pulling while
 * the downstream breaker is open, and a graceful `stop()`. Options are validated here; `start()` checks
 * the consumer.
 *
 * @example
 * const worker = createWorker({ connection: nc, stream: 'NOTIFY', consumer: 'email', concurrency: 16,
 *   handler: (job) => emailBreaker.fire(job), breaker: emailBreaker, deadLetterSubject: 'dead.notify',
 *   host })
 * await worker.start()
 */
export function createWorker<T = unknown>(options: WorkerOptions<T>): Worker {
  return new JetStreamWorker(resolveWorkerOptions(options))
}

class JetStreamWorker<T> extends EventEmitter implements Worker {
  readonly #o: ResolvedWorkerOptions<T>
  readonly #counts: PairMetrics['counts']
  readonly #pair: PairMetrics
  readonly #held = new HeldMessages()
  readonly #failures = new FailureMemory(FAILURE_MEMORY)
  readonly #puller: Puller
  readonly #window: PrefetchWindow
  #state: WorkerState = 'idle'
  #inFlight = 0
  #js: JetStreamClient | undefined
  #ackWaitMs = 30_000
  #serverMaxDeliver = -1
  #timer: NodeJS.Timeout | undefined
  #starting: Promise<void> | undefined
  #stopping: Promise<WorkerStopResult> | undefined
  #idle: (() => void) | undefined
  #draining = false
  #scheduled = false
  /** Acks decided and not sent yet (see #succeeded). */
  #acks: Delivery[] = []

  constructor(o: ResolvedWorkerOptions<T>) {
    super()
    this.#o = o
    this.#window = new PrefetchWindow(o.concurrency, o.prefetch)
    this.#pair = pairMetrics(o.registry, o.stream, o.consumer)
    this.#counts = this.#pair.counts
    this.#puller = new Puller({ ...o, receive: (msg) => this.#receive(msg), pump: () => this.#pump() })
    registerNatsBuildInfo(o.registry)
    if (o.host) wireHost(o.host, o.connection, `nats-worker ${o.stream}/${o.consumer}`, () => this.stop())
  }

  get state(): WorkerState {
    return this.#state
  }

  get inFlight(): number {
    return this.#inFlight
  }

  start(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      return Promise.reject(new WorkerStoppedError())
    }
    this.#starting ??= this.#start().catch((err: unknown) => {
      this.#starting = undefined
      throw err
    })
    return this.#starting
  }

  stop(options: { timeoutMs?: number } = {}): Promise<WorkerStopResult> {
    if (this.#stopping) return this.#stopping
    const o = validate.requireObject('options', options)
    validate.rejectUnknownKeys('', o, ['timeoutMs'])
    const timeoutMs = validate.optionalNumber('timeoutMs', o.timeoutMs, this.#o.stopTimeoutMs, {
      max: 2 ** 31 - 1,
    })
    this.#stopping = this.#stop(timeoutMs)
    return this.#stopping
  }

  async #start(): Promise<void> {
    const o = this.#o
    const jsm = await jetstreamManager(o.connection, { checkAPI: false })
    const settings = await checkConsumer(jsm, { ...o, capacity: o.concurrency + o.prefetch })
    if (this.#state !== 'idle') throw new WorkerStoppedError()
    this.#js = jetstream(o.connection)
    this.#ackWaitMs = settings.ackWaitMs
    this.#serverMaxDeliver = settings.serverMaxDeliver
    this.#pair.live.add(this)
    o.breaker?.on('open', this.#onOpen)
    o.breaker?.on('halfOpen', this.#onHalfOpen)
    o.breaker?.on('close', this.#onClose)
    this.#puller.watchReconnects(() => this.#pump())
    // The keep-alive of held messages (at half of ack_wait) and the heartbeat watch share one timer.
    const tickMs = Math.max(50, Math.min(this.#ackWaitMs / 4, HEARTBEAT_MS))
    this.#timer = setInterval(() => this.#tick(), tickMs).unref()
    const b = o.breaker
    if (b?.opened) this.#pause()
    else this.#resume(b?.halfOpen ? 'probing' : 'running')
  }

  async #stop(timeoutMs: number): Promise<WorkerStopResult> {
    const deadline = performance.now() + timeoutMs
    this.#state = 'stopping'
    this.#detachBreaker()
    // A start() in progress sees 'stopping' when its checks return, and gives up.
    await this.#starting?.catch(() => undefined)
    // Whatever arrives while the subscription drains is handed back (#receive sees 'stopping').
    const closing = this.#puller.retire()
    if (closing) await withinDeadline(closing, deadline)
    this.#held.takeQueued((d) => this.#handBack(d, 0))
    if (this.#inFlight > 0) {
      await withinDeadline(new Promise<void>((resolve) => (this.#idle = resolve)), deadline)
    }
    let abandoned = 0
    this.#held.abandonAll((d) => {
      d.abandon()
      this.#handBack(d, 0)
      abandoned++
    })
    this.#sendAcks()
    clearInterval(this.#timer)
    this.#puller.close()
    this.#pair.live.delete(this)
    this.#state = 'stopped'
    if (abandoned > 0) {
      this.#o.logger.warn({ abandoned, timeoutMs }, 'worker stopped with handlers still running; handed back')
    }
    return { abandoned }
  }

  // --- receiving, running and settling messages: the hot path ---

  #receive(msg: Msg): void {
    let d: Delivery
    try {
      d = new Delivery(msg, performance.now())
    } catch (err) {
      this.#o.logger.warn({ err, subject: msg.subject }, 'ignored a message that is not a JetStream delivery')
      return
    }
    const state = this.#state
    if (state === 'running' || state === 'probing') {
      if (!this.#failures.empty) d.failures = this.#failures.get(d.streamSequence)
      const runNow = this.#inFlight < this.#limit() && this.#held.queued === 0
      this.#held.add(d, !runNow)
      if (runNow) this.#run(d)
      this.#schedule()
    } else {
      // Arrived while a closed subscription drained: paused (wait for the breaker) or stopping (at once).
      this.#handBack(d, state === 'paused' ? breakerDelayMs(this.#o.breaker) : 0)
    }
  }

  /** Handler slots: all while running, one while the breaker is half-open, none otherwise. */
  #limit(): number {
    return this.#state === 'running' ? this.#o.concurrency : this.#state === 'probing' ? 1 : 0
  }

  #run(d: Delivery): void {
    this.#inFlight++
    d.startedAt = performance.now()
    let payload: T
    try {
      payload = this.#o.decode(d.data, d)
    } catch (err) {
      void this.#deadLetter(d, 'decode', new DecodeError(err))
      return
    }
    let result: unknown
    try {
      result = this.#o.handler(payload, d)
    } catch (err) {
      this.#failed(d, err)
      return
    }
    if (typeof (result as PromiseLike<unknown> | null)?.then === 'function') {
      ;(result as PromiseLike<unknown>).then(
        () => this.#succeeded(d),
        (err: unknown) => this.#failed(d, err),
      )
    } else {
      this.#succeeded(d)
    }
  }

  #succeeded(d: Delivery): void {
    if (!d.abandoned && d.claimAck()) {
      // The client writes to the socket once per microtask turn that published something: handlers
      // resolving one after another (concurrency 1) would each pay a write for their ack. Sent together
      // a moment later, they share one.
      this.#acks.push(d)
      this.#schedule()
      this.#counts.ack++
      if (d.failures > 0) this.#failures.delete(d.streamSequence)
    }
    this.#finish(d)
  }

  #failed(d: Delivery, err: unknown): void {
    if (d.abandoned) {
      this.#finish(d)
      return
    }
    const o = this.#o
    const decision = decideFailure(d, err, { ...o, serverMaxDeliver: this.#serverMaxDeliver })
    if (decision.action === 'dead_letter') {
      void this.#deadLetter(d, 'max_deliver', err)
      return
    }
    this.#handBack(d, decision.delayMs)
    if (decision.counted) {
      this.#failures.set(d.streamSequence, d.failures)
      o.logger.warn(
        { err, subject: d.subject, streamSequence: d.streamSequence, failures: d.failures },
        'handler failed; the message will be redelivered',
      )
    } else {
      o.logger.debug?.({ subject: d.subject, streamSequence: d.streamSequence }, 'breaker open; handed back')
    }
    this.#finish(d)
  }

  async #deadLetter(d: Delivery, reason: DeadLetterReason, error: unknown): Promise<void> {
    const o = this.#o
    this.#failures.delete(d.streamSequence)
    const subject = o.deadLetterSubject
    const event = {
      reason,
      subject: d.subject,
      streamSequence: d.streamSequence,
      deliveryCount: d.deliveryCount,
      failures: d.failures,
      error,
      published: subject !== undefined,
    }
    let published = true
    try {
      if (subject !== undefined) {
        await publishDeadLetter(this.#js!, subject, d, {
          stream: o.stream,
          consumer: o.consumer,
          reason,
          error,
        })
      }
    } catch (err) {
      // Never drop it: it stays in the stream and comes back after the longest backoff.
      published = false
      o.logger.error(
        { ...event, err: new DeadLetterError(subject!, 'publish failed', err) },
        'dead letter failed',
      )
      this.#failures.set(d.streamSequence, d.failures)
      if (!d.settled) this.#handBack(d, o.backoffMs[o.backoffMs.length - 1]!)
    }
    // Settled meanwhile: stop() gave up on it and handed it back.
    if (published && !d.settled) {
      d.term()
      this.#counts[subject === undefined ? 'term' : 'dead_letter']++
      o.logger.error({ ...event, err: error }, 'message removed from the stream without being handled')
      this.#emit('deadLetter', event)
    }
    this.#finish(d)
  }

  #finish(d: Delivery): void {
    this.#inFlight--
    this.#held.release(d)
    const ms = performance.now() - d.startedAt
    this.#pair.processing.observe(ms / 1000)
    this.#window.observe(ms)
    const state = this.#state
    if (state === 'running' || state === 'probing') {
      this.#drain()
      // Asked at once, not at the end of the turn, so the next batch is on its way while the waiting
      // messages run (a request goes out once per quarter of the capacity, with the acks so far).
      this.#pump()
      this.#schedule()
    } else if (this.#inFlight === 0 && this.#idle) {
      this.#idle()
      this.#idle = undefined
    }
  }

  /**
   * Starts waiting messages while slots are free. Never re-entered: a synchronous handler finishing inside
   * #run would otherwise recurse once per waiting message.
   */
  #drain(): void {
    if (this.#draining) return
    this.#draining = true
    try {
      while (this.#inFlight < this.#limit()) {
        const d = this.#held.next()
        if (d === undefined) break
        this.#run(d)
      }
    } finally {
      this.#draining = false
    }
  }

  /** Nak: redelivery after `minMs`, or later if a closed session's request could swallow it (PullSession). */
  #handBack(d: Delivery, minMs: number): void {
    d.nak(this.#puller.handBackDelayMs(minMs))
    this.#counts.nak++
  }

  /** One turn later: the acks decided meanwhile, and a pull request if there is room. */
  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(this.#flush)
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    this.#sendAcks()
    this.#pump()
  }

  #sendAcks(): void {
    const acks = this.#acks
    if (acks.length === 0) return
    this.#acks = []
    for (const d of acks) d.sendAck()
  }

  #pump(): void {
    const state = this.#state
    const capacity =
      state === 'running' ? this.#o.concurrency + this.#window.size : state === 'probing' ? 1 : 0
    const queued = this.#held.queued
    const minBatch = Math.max(1, Math.ceil(capacity / 4))
    // The acks decided so far ride in the same socket write as the request.
    if (this.#puller.pump(capacity - this.#inFlight - queued, queued, minBatch)) this.#sendAcks()
  }

  #tick(): void {
    const now = performance.now()
    this.#held.keepAlive(now, this.#ackWaitMs / 2)
    this.#puller.checkHeartbeats(now)
    this.#pump()
  }

  // --- the breaker ---

  readonly #onOpen = (): void => {
    if (this.#state === 'running' || this.#state === 'probing') this.#pause()
  }

  readonly #onHalfOpen = (): void => {
    if (this.#state === 'paused') this.#resume('probing')
  }

  readonly #onClose = (): void => {
    if (this.#state === 'paused' || this.#state === 'probing') this.#resume('running')
  }

  #pause(): void {
    this.#state = 'paused'
    this.#puller.retire()
    const delayMs = breakerDelayMs(this.#o.breaker)
    this.#held.takeQueued((d) => this.#handBack(d, delayMs))
    this.#o.logger.info({ retryAfterMs: delayMs }, 'breaker open: worker paused')
    this.#emit('pause', { retryAfterSeconds: delayMs / 1000 })
  }

  #resume(state: 'running' | 'probing'): void {
    this.#state = state
    this.#puller.open()
    this.#drain()
    this.#pump()
    this.#o.logger.info({ state }, 'worker pulling')
    this.#emit('resume', { state })
  }

  /** Emits without letting a throwing listener break the worker (these run inside breaker events). */
  #emit<K extends keyof WorkerEvents>(event: K, ...args: WorkerEvents[K]): void {
    try {
      this.emit(event, ...args)
    } catch (err) {
      this.#o.logger.error({ err, event }, 'a worker event listener threw')
    }
  }

  #detachBreaker(): void {
    this.#o.breaker?.off('open', this.#onOpen)
    this.#o.breaker?.off('halfOpen', this.#onHalfOpen)
    this.#o.breaker?.off('close', this.#onClose)
  }
}
