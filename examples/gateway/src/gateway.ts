// The gateway as a Fastify app: @goreliable/fastify for the admin port, metrics, 503s and shutdown; tokens
// at /auth/token; /api/v1/orders forwarded to the order service through a core breaker. main.ts builds it
// from the environment; the tests build it in-process.

import { createLogger, InvalidOptionError, validate } from '@goreliable/core'
import goreliable, { type GoreliableOptions } from '@goreliable/fastify'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify'
import { createAuthClients } from './auth-clients.js'
import { registerAuthRoutes } from './auth-routes.js'
import { installErrorHandlers } from './http-errors.js'
import { createOrderProxy, type UpstreamRequest, type UpstreamResponse } from './order-proxy.js'
import { requireBearer } from './require-bearer.js'
import { createTokens, MIN_SECRET_BYTES } from './tokens.js'
import { UpstreamResponseError } from './upstream-errors.js'

/** The largest request body accepted, in bytes, as in the order service; larger is 400 `BODY_TOO_LARGE`. */
export const BODY_LIMIT_BYTES = 16 * 1024

/** Breaker settings of {@link GatewayConfig}. */
export interface GatewayBreakerConfig {
  /**
   * Time the breaker stays open after failures before it lets one trial request through, in ms.
   * @default 5000
   */
  resetTimeoutMs?: number
  /**
   * Failure percentage in the rolling window above which it opens.
   * @default 50
   */
  errorThresholdPercentage?: number
  /**
   * Requests the window must hold before it may open.
   * @default 5
   */
  volumeThreshold?: number
  /**
   * Length of the rolling window, in ms.
   * @default 10000
   */
  rollingCountTimeoutMs?: number
}

/** Configuration of {@link createGateway}. main.ts reads it from the environment (see README). */
export interface GatewayConfig {
  /** Base URLs of the order-service instances (`ORDER_SERVICE_URLS`). */
  orderServiceUrls: string[]
  /**
   * Readiness URLs of the order-service instances (`ORDER_SERVICE_READY_URLS`), one per entry of
   * `orderServiceUrls`, in the same order: an instance leaves the rotation while its URL does not answer
   * 200, and the `order-service` breaker is held open while none does. Empty: breakers open on failed
   * requests only.
   * @default []
   */
  orderServiceReadyUrls?: string[]
  /** Client ids and their secrets (`AUTH_CLIENTS`, `id:secret,...`). */
  authClients: Record<string, string>
  /** HMAC key of the tokens (`JWT_SECRET`), at least 32 bytes. */
  jwtSecret: string
  /**
   * Lifetime of a token, in seconds (`TOKEN_TTL_SECONDS`).
   * @default 300
   */
  tokenTtlSeconds?: number
  /**
   * Longest time for one forwarded request, failovers included, in ms; then 503.
   * @default 5000
   */
  upstreamTimeoutMs?: number
  /**
   * Time between two readiness checks of the order service, in ms.
   * @default 2000
   */
  healthCheckIntervalMs?: number
  /**
   * The `order-service` breaker, and with several instances each instance's `order-service@host:port`.
   * @default {}
   */
  breaker?: GatewayBreakerConfig
  /**
   * pino level (`LOG_LEVEL`), or `'silent'`.
   * @default 'info'
   */
  logLevel?: string
  /**
   * Options of the @goreliable/fastify plugin (`serviceName` is always `'gateway'`). main.ts sets `admin` from
   * `HOST` and `ADMIN_PORT`, `shutdown.drainDelayMs` from `SHUTDOWN_DRAIN_DELAY_MS` and
   * `profiling` from `PYROSCOPE_URL`.
   * @default { admin: { port: 9464 }, requestLogging: true }
   */
  goreliable?: Omit<GoreliableOptions, 'serviceName'>
}

/** Every key {@link createGateway} accepts. */
export const createGatewayConfigKeys = [
  'orderServiceUrls',
  'orderServiceReadyUrls',
  'authClients',
  'jwtSecret',
  'tokenTtlSeconds',
  'upstreamTimeoutMs',
  'healthCheckIntervalMs',
  'breaker',
  'logLevel',
  'goreliable',
] as const satisfies readonly (keyof GatewayConfig)[]

/** Keys of {@link GatewayConfig.breaker}. */
export const gatewayBreakerConfigKeys = [
  'resetTimeoutMs',
  'errorThresholdPercentage',
  'volumeThreshold',
  'rollingCountTimeoutMs',
] as const satisfies readonly (keyof GatewayBreakerConfig)[]

/** Request headers passed on to the order service. */
const FORWARDED_HEADERS = ['content-type', 'idempotency-key', 'accept'] as const

/** Builds the gateway, not yet listening. Stop it with `app.goreliable.shutdown.shutdown()` (SIGTERM does). */
export async function createGateway(config: GatewayConfig): Promise<FastifyInstance> {
  const c = resolveConfig(config)
  const logger = createLogger({ serviceName: 'gateway', level: c.logLevel as 'info' })
  const app = Fastify({
    // Typed as Fastify's base logger so the app is a plain FastifyInstance for helpers and tests.
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  })
  await app.register(goreliable, {
    admin: { port: 9464 },
    requestLogging: true,
    ...c.goreliable,
    serviceName: 'gateway',
  })
  installErrorHandlers(app, BODY_LIMIT_BYTES)
  // JSON only: a text body would otherwise reach validation as a string ("body must be a JSON object").
  app.removeContentTypeParser('text/plain')

  const tokens = createTokens(c.jwtSecret, c.tokenTtlSeconds)
  registerAuthRoutes(app, createAuthClients(c.authClients), tokens)

  const forward = createOrderProxy(app, {
    urls: c.orderServiceUrls,
    readyUrls: c.orderServiceReadyUrls,
    timeoutMs: c.upstreamTimeoutMs,
    healthCheckIntervalMs: c.healthCheckIntervalMs,
    breaker: c.breaker,
  })

  await app.register(
    async (api) => {
      api.addHook('onRequest', requireBearer(tokens))
      // Bodies are passed on as the client sent them (the order service validates them), so the gateway
      // neither parses nor re-serializes JSON; the body limit still applies.
      api.removeAllContentTypeParsers()
      api.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))

      api.post('/orders', async (request, reply) =>
        relay(reply, () => forward(upstreamRequest('POST', '/api/v1/orders', request))),
      )
      api.get<{ Params: { id: string } }>('/orders/:id', async (request, reply) =>
        relay(reply, () =>
          forward(upstreamRequest('GET', `/api/v1/orders/${encodeURIComponent(request.params.id)}`, request)),
        ),
      )
    },
    { prefix: '/api/v1' },
  )
  return app
}

function upstreamRequest(
  method: UpstreamRequest['method'],
  path: string,
  request: {
    headers: Record<string, string | string[] | undefined>
    body?: unknown
    clientId?: string
    id: string
  },
): UpstreamRequest {
  const headers: Record<string, string> = { 'x-request-id': request.id }
  for (const name of FORWARDED_HEADERS) {
    const value = request.headers[name]
    if (typeof value === 'string') headers[name] = value
  }
  // The order service scopes idempotency keys by client: two clients may pick the same key.
  if (request.clientId !== undefined) headers['x-client-id'] = request.clientId
  return { method, path, headers, ...(Buffer.isBuffer(request.body) && { body: request.body }) }
}

/**
 * Sends the order service's answer: a success, or its 4xx/5xx with its own body (a 400 naming the field, a
 * 404, a 422). Anything else (an open breaker, an unreachable service, a timeout) is thrown on, and
 * @goreliable/fastify answers it 503 with `Retry-After`.
 */
async function relay(reply: FastifyReply, call: () => Promise<UpstreamResponse>): Promise<FastifyReply> {
  let answer: UpstreamResponse | UpstreamResponseError
  try {
    answer = await call()
  } catch (err) {
    if (!(err instanceof UpstreamResponseError)) throw err
    answer = err
  }
  const headers = answer.headers
  // Every 503 the gateway answers says when to retry. Fastify's own 503 from a closing instance carries no
  // Retry-After: give the delay @goreliable/fastify gives for an unreachable upstream.
  if (answer.status === 503 && headers['retry-after'] === undefined) {
    headers['retry-after'] = String(UPSTREAM_RETRY_AFTER_SECONDS)
  }
  return reply.code(answer.status).headers(headers).send(answer.body)
}

/** @goreliable/fastify's default `upstreamRetryAfterSeconds`. */
const UPSTREAM_RETRY_AFTER_SECONDS = 5

type ResolvedConfig = Required<Omit<GatewayConfig, 'breaker' | 'goreliable'>> & {
  breaker: Required<GatewayBreakerConfig>
  goreliable: Omit<GoreliableOptions, 'serviceName'>
}

function resolveConfig(config: GatewayConfig): ResolvedConfig {
  const o = validate.requireObject('config', config)
  validate.rejectUnknownKeys('', o, createGatewayConfigKeys)
  const b = validate.optionalObject('breaker', o.breaker) ?? {}
  validate.rejectUnknownKeys('breaker', b, gatewayBreakerConfigKeys)
  const clients = validate.requireObject('authClients', o.authClients)
  if (Object.keys(clients).length === 0) throw new InvalidOptionError('authClients', 'at least one client')
  for (const [id, secret] of Object.entries(clients)) validate.requireString(`authClients.${id}`, secret)
  const jwtSecret = validate.requireString('jwtSecret', o.jwtSecret)
  if (Buffer.byteLength(jwtSecret) < MIN_SECRET_BYTES) {
    throw new InvalidOptionError('jwtSecret', `a secret of at least ${MIN_SECRET_BYTES} bytes`)
  }
  const ms = { min: 1, max: 600_000, integer: true }
  const orderServiceUrls = urls('orderServiceUrls', o.orderServiceUrls, 1)
  const orderServiceReadyUrls = urls('orderServiceReadyUrls', o.orderServiceReadyUrls ?? [], 0)
  if (orderServiceReadyUrls.length > 0 && orderServiceReadyUrls.length !== orderServiceUrls.length) {
    throw new InvalidOptionError(
      'orderServiceReadyUrls',
      `one readiness URL per orderServiceUrls entry, in the same order (${orderServiceUrls.length})`,
      orderServiceReadyUrls,
    )
  }
  return {
    orderServiceUrls,
    orderServiceReadyUrls,
    authClients: clients as Record<string, string>,
    jwtSecret,
    tokenTtlSeconds: validate.optionalNumber('tokenTtlSeconds', o.tokenTtlSeconds, 300, {
      min: 1,
      max: 86_400,
      integer: true,
    }),
    upstreamTimeoutMs: validate.optionalNumber('upstreamTimeoutMs', o.upstreamTimeoutMs, 5000, ms),
    healthCheckIntervalMs: validate.optionalNumber('healthCheckIntervalMs', o.healthCheckIntervalMs, 2000, {
      min: 100,
      max: 600_000,
      integer: true,
    }),
    breaker: {
      resetTimeoutMs: validate.optionalNumber('breaker.resetTimeoutMs', b.resetTimeoutMs, 5000, ms),
      errorThresholdPercentage: validate.optionalNumber(
        'breaker.errorThresholdPercentage',
        b.errorThresholdPercentage,
        50,
        { min: 1, max: 100 },
      ),
      volumeThreshold: validate.optionalNumber('breaker.volumeThreshold', b.volumeThreshold, 5, {
        integer: true,
      }),
      rollingCountTimeoutMs: validate.optionalNumber(
        'breaker.rollingCountTimeoutMs',
        b.rollingCountTimeoutMs,
        10_000,
        ms,
      ),
    },
    logLevel: validate.optionalString('logLevel', o.logLevel, 'info'),
    goreliable: (validate.optionalObject('goreliable', o.goreliable) ?? {}) as ResolvedConfig['goreliable'],
  }
}

function urls(name: string, value: unknown, min: number): string[] {
  if (!Array.isArray(value) || value.length < min) {
    throw new InvalidOptionError(
      name,
      min > 0 ? 'a non-empty array of http(s) URLs' : 'an array of http(s) URLs',
      value,
    )
  }
  return value.map((v, i) => {
    if (typeof v !== 'string' || !/^https?:\/\/[^\s/]+/.test(v)) {
      throw new InvalidOptionError(`${name}[${i}]`, 'an http(s) URL', v)
    }
    return v
  })
}
