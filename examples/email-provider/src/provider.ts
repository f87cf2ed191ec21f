// The fake email provider: a Fastify app that delivers each notification once per idempotency key and
// fails on purpose when told to, so the notification worker's retries, breaker and idempotency can be seen.

import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify'
import {
  applyFaultPatch,
  type FaultPatch,
  type FaultState,
  healthyFaults,
  parseFaultPatch,
} from './faults.js'
import { createMessageStore } from './message-store.js'
import { parseIdempotencyKey, parseMessageInput } from './validate-message.js'

/** Options of {@link createEmailProvider}. */
export interface EmailProviderOptions {
  /** Fastify's `logger` option: `false`, `true` or pino options such as `{ level: 'warn' }`. @default false */
  logger?: FastifyServerOptions['logger']
  /** Source of randomness for `errorRate`, in [0, 1); tests pass a fixed sequence. @default Math.random */
  random?: () => number
  /** Faults in force from the start, as `PUT /control` takes them. @default {} (healthy) */
  faults?: FaultPatch
}

/** Every option key of {@link createEmailProvider}; unknown keys are rejected. */
export const createEmailProviderOptionKeys = ['logger', 'random', 'faults'] as const

/** Thrown by {@link createEmailProvider} for a bad option; `option` names it. */
export class EmailProviderOptionError extends TypeError {
  readonly code = 'EMAIL_PROVIDER_INVALID_OPTION'
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`createEmailProvider: ${message}`)
    this.name = 'EmailProviderOptionError'
  }
}

/**
 * Creates the fake email provider's Fastify app (not listening yet).
 *
 * Routes: `POST /v1/messages` (delivers once per `Idempotency-Key`: 201 the first time, 200 with the same
 * record after), `GET /v1/messages` (deliveries, attempts per key, counters), `DELETE /v1/messages` (forget
 * all), `GET /control`, `PUT /control` or `POST /control` (set faults), `DELETE /control` (healthy again).
 * Faults only touch `POST /v1/messages`: the inspection and control routes always answer, so a test can
 * look and switch the faults off in the middle of an outage.
 *
 * @example
 * const app = createEmailProvider({ faults: { errorRate: 0.2 } })
 * await app.listen({ port: 8082, host: '127.0.0.1' })
 */
export function createEmailProvider(options: EmailProviderOptions = {}): FastifyInstance {
  const { random, initialFaults, logger } = resolveOptions(options)
  const store = createMessageStore()
  let faults: FaultState = initialFaults

  const app = Fastify({ logger: logger ?? false })

  app.post('/v1/messages', async (request, reply) => {
    const keyResult = parseIdempotencyKey(request.headers['idempotency-key'])
    if ('key' in keyResult) store.countAttempt(keyResult.key)
    else store.countRequestWithoutKey()

    // Faults are read once per request so that a control change mid-request cannot mix two settings.
    const now = faults
    if (now.latencyMs > 0) await sleep(now.latencyMs)
    if (now.outage === 'reset') {
      store.countRejection('outageRejections')
      return dropConnection(reply)
    }
    if (now.outage === 'http503') {
      store.countRejection('outageRejections')
      if (now.outageStatus === 503) reply.header('retry-after', '1')
      return sendError(reply, now.outageStatus, 'the email provider is in an outage (injected)')
    }
    if (now.errorRate > 0 && random() < now.errorRate) {
      store.countRejection('injectedErrors')
      return sendError(reply, 500, 'the email provider failed (injected errorRate)')
    }

    if ('error' in keyResult) {
      store.countRejection('invalid')
      return sendError(reply, 400, keyResult.error)
    }
    const input = parseMessageInput(request.body)
    if ('error' in input) {
      store.countRejection('invalid')
      return sendError(reply, 400, input.error)
    }
    const { message, created } = store.deliver(keyResult.key, input.message)
    if (!created) reply.header('idempotent-replayed', 'true')
    return reply.code(created ? 201 : 200).send(message)
  })

  app.get<{ Querystring: { idempotencyKey?: string } }>('/v1/messages', async (request) =>
    store.list(request.query.idempotencyKey),
  )

  app.delete('/v1/messages', async () => {
    store.clear()
    return store.list()
  })

  app.get('/control', async () => faults)

  const setFaults = async (request: FastifyRequest, reply: FastifyReply) => {
    const parsed = parseFaultPatch(request.body)
    if ('error' in parsed) return sendError(reply, 400, parsed.error)
    faults = applyFaultPatch(faults, parsed.patch)
    request.log.info({ faults }, 'email provider faults changed')
    return faults
  }
  app.put('/control', setFaults)
  app.post('/control', setFaults)

  app.delete('/control', async () => {
    faults = { ...healthyFaults }
    return faults
  })

  return app
}

function resolveOptions(options: EmailProviderOptions) {
  if (options === null || typeof options !== 'object') {
    throw new EmailProviderOptionError('options', 'options must be an object')
  }
  for (const key of Object.keys(options)) {
    if (!(createEmailProviderOptionKeys as readonly string[]).includes(key)) {
      throw new EmailProviderOptionError(key, `unknown option ${key}`)
    }
  }
  if (options.random !== undefined && typeof options.random !== 'function') {
    throw new EmailProviderOptionError('random', 'random must be a function returning a number in [0, 1)')
  }
  let initialFaults: FaultState = { ...healthyFaults }
  if (options.faults !== undefined) {
    const parsed = parseFaultPatch(options.faults, 'faults')
    if ('error' in parsed) throw new EmailProviderOptionError('faults', parsed.error)
    initialFaults = applyFaultPatch(initialFaults, parsed.patch)
  }
  return { random: options.random ?? Math.random, initialFaults, logger: options.logger }
}

function sendError(reply: FastifyReply, statusCode: number, message: string) {
  const error =
    statusCode === 400 ? 'Bad Request' : statusCode === 503 ? 'Service Unavailable' : 'Server Error'
  return reply.code(statusCode).send({ statusCode, error, message })
}

// A reset rather than a graceful close: the client sees ECONNRESET, as when a provider's load balancer dies.
function dropConnection(reply: FastifyReply) {
  reply.hijack()
  const socket = reply.request.raw.socket as
    | (typeof reply.request.raw.socket & { resetAndDestroy?: () => void })
    | null
  if (socket && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy()
  else reply.raw.destroy(new Error('connection dropped by the email provider (injected outage)'))
}
