import type { AddressInfo } from 'node:net'
import type { CheckKind, Health, Profiler } from '@goreliable/core'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import * as fastifyModule from 'fastify'
import type { Registry } from 'prom-client'
import type { AddressMatcher } from './address-matcher.js'
import { sendError } from './error-reply.js'
import { FastifyErrorCodes } from './errors.js'

export interface AdminServerOptions {
  registry: Registry
  health: Health
  profiler: Profiler
  /** Who may read `/metrics` and `/debug/pprof/*`. */
  allowed: AddressMatcher
  logger: FastifyBaseLogger
}

export interface AdminServer {
  listen(port: number, host: string): Promise<void>
  close(): Promise<void>
  address(): AddressInfo | null
}

const DEFAULT_PROFILE_SECONDS = 10
const MAX_PROFILE_SECONDS = 60

/**
 * The admin server: a Fastify instance of its own, on its own port, so that metrics, profiles and probes are
 * never reachable through the port the public traffic uses, and so that nothing the main app registers
 * (hooks, load shedding, auth) applies to them.
 *
 * Every handler answers errors with `{ statusCode, code, error, message }` through one error handler, so no
 * input (a malformed query, a failing collect, a client that goes away mid-profile) can crash the process.
 */
export function createAdminServer(o: AdminServerOptions): AdminServer {
  const admin = createInstance(o.logger)

  const guard = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const address = request.raw.socket?.remoteAddress
    if (o.allowed(address)) {
      done()
      return
    }
    sendError(
      reply,
      403,
      FastifyErrorCodes.ADDRESS_NOT_ALLOWED,
      `Address ${address ?? '(unknown)'} is not in the admin server's allow list (option admin.allow)`,
    )
  }

  admin.get('/metrics', { onRequest: guard }, async (_request, reply) => {
    const text = await o.registry.metrics()
    return reply.type(o.registry.contentType).header('cache-control', 'no-store').send(text)
  })

  admin.get<{ Querystring: Record<string, unknown> }>(
    '/debug/pprof/profile',
    { onRequest: guard },
    async (request, reply) => {
      const seconds = profileSeconds(request.query.seconds)
      if (typeof seconds === 'string') {
        return sendError(reply, 400, FastifyErrorCodes.INVALID_QUERY, seconds)
      }
      const profile = await o.profiler.captureCpuProfile(seconds)
      return sendProfile(reply, profile, 'profile.pb.gz')
    },
  )

  admin.get('/debug/pprof/heap', { onRequest: guard }, async (_request, reply) => {
    return sendProfile(reply, await o.profiler.captureHeapProfile(), 'heap.pb.gz')
  })

  // Open to every address: Kubernetes probes come from the node's address, which no allow list can know.
  const probe = (kind: CheckKind) => async (_request: FastifyRequest, reply: FastifyReply) => {
    const report = await o.health.report(kind)
    return reply
      .code(report.status === 'ok' ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(report)
  }
  admin.get('/livez', probe('liveness'))
  admin.get('/readyz', probe('readiness'))
  admin.get('/startupz', probe('startup'))

  admin.setErrorHandler((error, request, reply) => {
    const e = error as { statusCode?: unknown; code?: unknown; message?: unknown }
    const status =
      typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode <= 599 ? e.statusCode : 500
    const code = typeof e.code === 'string' ? e.code : FastifyErrorCodes.ADMIN_FAILED
    if (status >= 500) request.log.error({ err: error, url: request.routeOptions.url }, 'admin route failed')
    return sendError(reply, status, code, typeof e.message === 'string' ? e.message : 'Admin route failed')
  })

  let listening = false
  return {
    async listen(port, host) {
      await admin.listen({ port, host })
      listening = true
    },
    async close() {
      listening = false
      await admin.close()
    },
    address() {
      if (!listening) return null
      const address = admin.server.address()
      return address !== null && typeof address === 'object' ? address : null
    },
  }
}

/**
 * Fastify's own request lines would log every probe and scrape. Fastify 5.12 deprecates the
 * `disableRequestLogging` option in favour of a LogController; older 5.x only have the option.
 */
function createInstance(logger: FastifyBaseLogger): FastifyInstance {
  const LogController = (fastifyModule as unknown as { LogController?: new (o: object) => unknown })
    .LogController
  const quiet =
    LogController === undefined
      ? { disableRequestLogging: true }
      : { logController: new LogController({ disableRequestLogging: true }) }
  return fastifyModule.default({
    loggerInstance: logger.child({ server: 'admin' }),
    ...(quiet as object),
  }) as unknown as FastifyInstance
}

/** The `seconds` query value as a whole number of seconds, or the message of the 400 it deserves. */
function profileSeconds(value: unknown): number | string {
  if (value === undefined) return DEFAULT_PROFILE_SECONDS
  const expected = `seconds must be a whole number from 1 to ${MAX_PROFILE_SECONDS}`
  if (typeof value !== 'string' || !/^\d{1,3}$/.test(value)) return `${expected}, received ${describe(value)}`
  const seconds = Number(value)
  if (seconds < 1 || seconds > MAX_PROFILE_SECONDS) return `${expected}, received ${seconds}`
  return seconds
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'it more than once'
  const text = String(value)
  return JSON.stringify(text.length > 20 ? `${text.slice(0, 20)}…` : text)
}

function sendProfile(reply: FastifyReply, profile: Buffer, filename: string): FastifyReply {
  // Go's net/http/pprof answers the same way; `go tool pprof http://host:9464/debug/pprof/profile` reads it.
  return reply
    .type('application/octet-stream')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .header('cache-control', 'no-store')
    .send(profile)
}
