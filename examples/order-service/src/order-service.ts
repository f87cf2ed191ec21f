// The order service as a Fastify app: @goreliable/fastify for the admin port, metrics, 503s and shutdown;
// @goreliable/pg for the pool (metrics, readiness, bounded waits); the outbox relay publishing through
// @goreliable/nats. main.ts builds it from the environment; the tests build it in-process.

import { createLogger, InvalidOptionError, validate } from '@goreliable/core'
import goreliable, { type GoreliableOptions, isUpstreamConnectionError } from '@goreliable/fastify'
import { createPool } from '@goreliable/pg'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type { Pool } from 'pg'
import { installErrorHandlers } from './http-errors.js'
import { isSchemaName, migrate } from './migrations.js'
import { createNatsLink } from './nats-link.js'
import { createOrderStore } from './order-store.js'
import { registerOrderRoutes } from './orders-routes.js'
import { createOutboxRelay } from './outbox-relay.js'

/** The largest request body accepted, in bytes; a larger one is answered 400 `BODY_TOO_LARGE`. */
export const BODY_LIMIT_BYTES = 16 * 1024

/** Configuration of {@link createOrderService}. main.ts reads it from the environment (see README). */
export interface OrderServiceConfig {
  /** PostgreSQL connection string (`DATABASE_URL`). */
  databaseUrl: string
  /**
   * The pool's `max` (`DATABASE_POOL_MAX`).
   * @default 10
   */
  databasePoolMax?: number
  /**
   * The schema holding the service's tables, created if missing (`DATABASE_SCHEMA`): a lowercase identifier.
   * @default 'order_service'
   */
  databaseSchema?: string
  /** NATS server URL(s), comma-separated (`NATS_URL`). */
  natsUrl: string
  /**
   * The JetStream stream, created if missing.
   * @default 'ORDERS'
   */
  stream?: string
  /**
   * Subjects of the stream when this service creates it.
   * @default ['orders.>']
   */
  streamSubjects?: string[]
  /**
   * Subject of the order-created events.
   * @default 'orders.created'
   */
  subject?: string
  /**
   * Time between two polls of an empty outbox, in ms. Orders created by this instance are relayed at once.
   * @default 500
   */
  outboxPollIntervalMs?: number
  /**
   * How long the service waits at start for the database to answer before it gives up, in ms.
   * @default 60000
   */
  startupTimeoutMs?: number
  /**
   * pino level (`LOG_LEVEL`), or `'silent'`.
   * @default 'info'
   */
  logLevel?: string
  /**
   * Options of the @goreliable/fastify plugin (`serviceName` is always `'order-service'`). main.ts sets
   * `admin` from `HOST` and `ADMIN_PORT`, `shutdown.drainDelayMs` from
   * `SHUTDOWN_DRAIN_DELAY_MS` and `profiling` from `PYROSCOPE_URL`.
   * @default { admin: { port: 9465 }, requestLogging: true }
   */
  goreliable?: Omit<GoreliableOptions, 'serviceName'>
}

/** Every key {@link createOrderService} accepts. */
export const createOrderServiceConfigKeys = [
  'databaseUrl',
  'databasePoolMax',
  'databaseSchema',
  'natsUrl',
  'stream',
  'streamSubjects',
  'subject',
  'outboxPollIntervalMs',
  'startupTimeoutMs',
  'logLevel',
  'goreliable',
] as const satisfies readonly (keyof OrderServiceConfig)[]

/** The stream de-duplicates `Nats-Msg-Id` over this window; the relay's lease stays well inside it. */
const DUPLICATE_WINDOW_MS = 120_000
const OUTBOX_LEASE_MS = 30_000
/** A week, as the notification worker creates the stream: a demo never fills a disk. */
const STREAM_MAX_AGE_MS = 7 * 24 * 3_600_000

/**
 * Builds the order service: runs the migrations (waiting up to `startupTimeoutMs` for the database), starts
 * connecting to NATS and the outbox relay in the background, and returns the app, not yet listening.
 * Stop it with `app.goreliable.shutdown.shutdown()` (what SIGTERM does): the HTTP server, then the relay,
 * NATS and the pool close in that order.
 */
export async function createOrderService(config: OrderServiceConfig): Promise<FastifyInstance> {
  const c = resolveConfig(config)
  const logger = createLogger({ serviceName: 'order-service', level: c.logLevel as 'info' })
  const app = Fastify({
    // Typed as Fastify's base logger so the app is a plain FastifyInstance for helpers and tests.
    loggerInstance: logger as FastifyBaseLogger,
    // @goreliable/fastify writes one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    // Strict bodies: "100" is not an amount, and an unknown field is an error rather than dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  })
  await app.register(goreliable, {
    admin: { port: 9465 },
    requestLogging: true,
    ...c.goreliable,
    serviceName: 'order-service',
  })
  installErrorHandlers(app, BODY_LIMIT_BYTES)
  // JSON only: a text body would otherwise reach validation as a string ("body must be a JSON object").
  app.removeContentTypeParser('text/plain')

  const pool = createPool(
    { connectionString: c.databaseUrl, max: c.databasePoolMax, application_name: 'order-service' },
    { name: 'orders', host: app.goreliable, logger: app.log, acquireTimeoutMs: 2000 },
  )
  try {
    const applied = await migrateWhenReachable(pool, c.databaseSchema, c.startupTimeoutMs, app)
    if (applied.length > 0) app.log.info({ schema: c.databaseSchema, applied }, 'migrations applied')
  } catch (err) {
    app.log.error({ err }, 'migrations failed')
    await pool.end().catch(() => undefined)
    await app.close()
    throw err
  }

  const link = createNatsLink({
    servers: c.natsUrl.split(',').map((s) => s.trim()),
    name: 'order-service',
    stream: c.stream,
    streamSubjects: c.streamSubjects,
    duplicateWindowMs: DUPLICATE_WINDOW_MS,
    maxAgeMs: STREAM_MAX_AGE_MS,
    retryIntervalMs: 1000,
    logger: app.log,
  })
  // Closers run last-added first: the relay stops, then NATS drains, then the pool ends.
  app.goreliable.shutdown.addCloser('nats', () => link.close())
  const relay = createOutboxRelay({
    pool,
    schema: c.databaseSchema,
    link,
    stream: c.stream,
    registry: app.goreliable.registry,
    logger: app.log,
    pollIntervalMs: c.outboxPollIntervalMs,
    batchSize: 100,
    leaseMs: OUTBOX_LEASE_MS,
    publishTimeoutMs: 2000,
    retentionMs: 3_600_000,
  })
  app.goreliable.shutdown.addCloser('outbox-relay', () => relay.stop())

  const store = createOrderStore(pool, { schema: c.databaseSchema, subject: c.subject })
  registerOrderRoutes(app, store, () => relay.wake())
  return app
}

type ResolvedConfig = Required<Omit<OrderServiceConfig, 'goreliable'>> & {
  goreliable: Omit<GoreliableOptions, 'serviceName'>
}

function resolveConfig(config: OrderServiceConfig): ResolvedConfig {
  const o = validate.requireObject('config', config)
  validate.rejectUnknownKeys('', o, createOrderServiceConfigKeys)
  const databaseSchema = validate.optionalString('databaseSchema', o.databaseSchema, 'order_service')
  if (!isSchemaName(databaseSchema)) {
    throw new InvalidOptionError(
      'databaseSchema',
      'a lowercase identifier ([a-z_][a-z0-9_]*)',
      databaseSchema,
    )
  }
  const streamSubjects = o.streamSubjects ?? ['orders.>']
  if (!Array.isArray(streamSubjects) || !streamSubjects.every((s) => typeof s === 'string' && s)) {
    throw new InvalidOptionError('streamSubjects', 'an array of subjects', streamSubjects)
  }
  return {
    databaseUrl: validate.requireString('databaseUrl', o.databaseUrl),
    databasePoolMax: validate.optionalNumber('databasePoolMax', o.databasePoolMax, 10, {
      min: 1,
      max: 1000,
      integer: true,
    }),
    databaseSchema,
    natsUrl: validate.requireString('natsUrl', o.natsUrl),
    stream: validate.optionalString('stream', o.stream, 'ORDERS'),
    streamSubjects,
    subject: validate.optionalString('subject', o.subject, 'orders.created'),
    outboxPollIntervalMs: validate.optionalNumber('outboxPollIntervalMs', o.outboxPollIntervalMs, 500, {
      min: 10,
      max: 60_000,
      integer: true,
    }),
    startupTimeoutMs: validate.optionalNumber('startupTimeoutMs', o.startupTimeoutMs, 60_000, {
      max: 3_600_000,
      integer: true,
    }),
    logLevel: validate.optionalString('logLevel', o.logLevel, 'info'),
    goreliable: (validate.optionalObject('goreliable', o.goreliable) ?? {}) as ResolvedConfig['goreliable'],
  }
}

/** Errors that mean "the database is not there yet", worth waiting out at start (compose, a new pod). */
function isNotReachableYet(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return (
    isUpstreamConnectionError(err) ||
    code === 'GR_ERR_POOL_TIMEOUT' ||
    code === 'ENOTFOUND' ||
    code === 'EAI_AGAIN' ||
    // the database system is starting up / shutting down / not accepting connections yet
    code === '57P03' ||
    code === '57P01'
  )
}

async function migrateWhenReachable(
  pool: Pool,
  schema: string,
  timeoutMs: number,
  app: FastifyInstance,
): Promise<number[]> {
  const deadline = Date.now() + timeoutMs
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrate(pool, schema)
    } catch (err) {
      if (!isNotReachableYet(err) || Date.now() >= deadline) throw err
      if (attempt === 1) app.log.warn({ err }, 'database not reachable yet; retrying')
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(0, deadline - Date.now()))))
    }
  }
}
