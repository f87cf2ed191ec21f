import type { AddressInfo } from 'node:net'
import { type Breaker, createBreaker, createLogger, type ShutdownResult } from '@goreliable/core'
import { goreliable } from '@goreliable/fastify'
import { createQueueDepthCollector, createWorker, type Worker } from '@goreliable/nats'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import Fastify from 'fastify'
import { Registry } from 'prom-client'
import { type NotificationWorkerConfig, type ResolvedConfig, resolveConfig } from './config.js'
import { createEmailClient, type SendOutcome } from './email-client.js'
import { NotificationAbortedError, ProviderRejectedError } from './errors.js'
import { ensureConsumer, ensureStream } from './jetstream-setup.js'
import { decodeOrderCreated, type OrderCreated } from './order-event.js'

/** The service's name: logs, Pyroscope, the NATS connection. */
const SERVICE_NAME = 'notification-worker'

/** A running (or runnable) notification worker. */
export interface NotificationWorker {
  /**
   * Starts the admin server, connects to NATS (waiting for it if it is not there yet), creates the stream
   * and the consumer when missing, and starts pulling. Rejects when the stream or consumer cannot be used.
   */
  start(): Promise<void>
  /**
   * The graceful shutdown a signal starts, run from code: readiness fails, then after the drain delay the
   * admin server closes, the worker stops pulling, finishes what it holds (hands back the rest), and the
   * NATS connection drains. Resolves with core's ShutdownResult (config `exit` is called too).
   */
  close(): Promise<ShutdownResult | undefined>
  /** Where the admin server listens once started; null before and after. */
  adminAddress(): AddressInfo | null
  /** The registry served on `/metrics`. */
  readonly registry: Registry
  /** The `email-provider` breaker every notification goes through. */
  readonly breaker: Breaker<[OrderCreated, AbortSignal], SendOutcome>
  /** The JetStream worker, once `start()` has created it. */
  readonly worker: Worker | undefined
}

/**
 * Creates the notification worker: a @goreliable/nats worker on the `orders.created` consumer that sends one
 * email per order through a core breaker, so that while the provider is down it stops pulling instead of
 * burning redeliveries. Options are validated here (InvalidOptionError naming the key); nothing connects
 * until `start()`.
 *
 * @example
 * const service = createNotificationWorker({ natsUrl: 'nats://127.0.0.1:4222', emailProviderUrl: 'http://127.0.0.1:8082' })
 * await service.start()
 */
export function createNotificationWorker(config: NotificationWorkerConfig): NotificationWorker {
  const c = resolveConfig(config)
  const logger = createLogger({ serviceName: SERVICE_NAME, level: c.logLevel })
  const registry = new Registry()
  const email = createEmailClient({
    baseUrl: c.emailProviderUrl,
    requestTimeoutMs: c.requestTimeoutMs,
    recipient: c.recipient,
  })
  const breaker = createBreaker((order: OrderCreated, signal: AbortSignal) => email.send(order, signal), {
    name: 'email-provider',
    registry,
    // The client aborts the request itself at requestTimeoutMs; opossum's timer would only race it.
    timeoutMs: false,
    ...c.breaker,
    // A refused message is the message's fault and an abandoned call nobody's: neither says the provider
    // is down, so neither may pause the worker for everyone.
    isFailure: (err) => !(err instanceof ProviderRejectedError || err instanceof NotificationAbortedError),
  })
  breaker.on('open', () => logger.warn('email provider failing: breaker open, worker pauses pulling'))
  breaker.on('close', () => logger.info('email provider back: breaker closed'))

  // The worker serves no HTTP API, so this app never listens: it exists to own the admin server, the
  // health checks and the shutdown sequence that @goreliable/fastify builds, which start on ready().
  const app = Fastify({ loggerInstance: logger })
  let worker: Worker | undefined
  let registered = false
  let starting: Promise<void> | undefined

  const isStarted = () =>
    worker !== undefined &&
    (worker.state === 'running' || worker.state === 'paused' || worker.state === 'probing')

  async function run(): Promise<void> {
    await app.register(goreliable, pluginOptions(c, registry))
    registered = true
    const host = app.goreliable
    // Started means pulling (or paused by the breaker): the stream and consumer exist and were accepted.
    // A provider outage is not a readiness failure: nothing routes to this pod, and failing readiness
    // would only stall rollouts while the breaker already does the right thing.
    host.health.addCheck({ name: SERVICE_NAME, kind: 'startup', check: isStarted })
    host.health.addCheck({ name: SERVICE_NAME, kind: 'readiness', check: isStarted })
    await app.ready()
    logger.info({ admin: app.goreliable.adminAddress() }, 'admin server listening')

    const nc: NatsConnection = await connect({
      servers: c.natsUrl.split(','),
      name: SERVICE_NAME,
      // Keep trying while NATS is not there yet (Compose and Kubernetes start everything at once);
      // /startupz and /readyz answer 503 meanwhile.
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
    })
    // Closers run last-added first: the worker (added by createWorker) stops before the breaker and the
    // connection it uses; the app's own closer, added when the shutdown starts, runs before all of them.
    host.shutdown.addCloser('nats-connection', () => nc.drain())
    host.shutdown.addCloser('email-provider-breaker', () => breaker.shutdown())
    if (host.shutdown.isShuttingDown) return

    const jsm = await jetstreamManager(nc)
    await ensureStream(jsm, c)
    await ensureConsumer(jsm, c)
    createQueueDepthCollector({ jsm, stream: c.stream, consumer: c.consumer, host })
    if (host.shutdown.isShuttingDown) return

    worker = createWorker<OrderCreated>({
      connection: nc,
      stream: c.stream,
      consumer: c.consumer,
      decode: decodeOrderCreated,
      handler: async (order, message) => {
        const outcome = await breaker.fire(order, message.signal)
        logger.debug(
          { orderId: order.id, outcome, deliveryCount: message.deliveryCount },
          'notification sent',
        )
      },
      breaker,
      concurrency: c.concurrency,
      // Provider calls are slow: holding many more than we run would starve the other replicas.
      prefetch: c.concurrency,
      maxDeliver: c.maxDeliver,
      backoffMs: c.backoffMs,
      deadLetterSubject: c.deadLetterSubject,
      stopTimeoutMs: c.stopTimeoutMs,
      // Metrics into the app's registry, stop() as a shutdown closer, and natsHealthCheck as readiness.
      host,
      logger,
    })
    await worker.start()
    logger.info({ stream: c.stream, consumer: c.consumer, subject: c.subject }, 'notification worker started')
  }

  return {
    start() {
      starting ??= run()
      return starting
    },
    async close() {
      if (!registered) {
        breaker.shutdown()
        await app.close()
        return undefined
      }
      return app.goreliable.shutdown.shutdown('close')
    },
    adminAddress: () => (registered ? app.goreliable.adminAddress() : null),
    registry,
    breaker,
    get worker() {
      return worker
    },
  }
}

function pluginOptions(c: ResolvedConfig, registry: Registry) {
  return {
    serviceName: SERVICE_NAME,
    registry,
    // No main server traffic, so no HTTP metrics: they would only export empty series.
    metrics: false,
    admin: { port: c.adminPort, host: c.host, allow: c.adminAllow },
    shutdown: {
      ...(c.drainDelayMs !== undefined && { drainDelayMs: c.drainDelayMs }),
      timeoutMs: c.shutdownTimeoutMs,
      signals: c.signals,
      ...(c.exit && { exit: c.exit }),
    },
    ...(c.pyroscopeUrl && { profiling: { pyroscope: { serverAddress: c.pyroscopeUrl } } }),
  }
}
