import type { FastifyInstance } from 'fastify'

interface LogControllerLike {
  disableRequestLogging?: unknown
  isLogDisabled?: unknown
}

/**
 * Whether Fastify's own request lines ("incoming request", "request completed") are on, so that turning ours
 * on as well would write three lines per request. Best effort, and it errs towards silence: a function for
 * `disableRequestLogging` or a LogController subclass means the app decides per request, and is left alone.
 *
 * Fastify 5.12 moved the switch from the `disableRequestLogging` option to a `logController`, which Fastify
 * does not expose; it is found by its symbol's description. When it cannot be found, the top-level option
 * alone decides.
 */
export function fastifyLogsRequests(app: FastifyInstance): boolean {
  const option = (app.initialConfig as { disableRequestLogging?: unknown }).disableRequestLogging
  if (option === true || typeof option === 'function') return false
  const controller = findLogController(app)
  if (controller === undefined) return true
  const proto = Object.getPrototypeOf(controller) as object | null
  const isSubclass = proto !== null && Object.getPrototypeOf(proto) !== Object.prototype
  if (isSubclass) return false
  const disabled = controller.disableRequestLogging
  return !(disabled === true || typeof disabled === 'function')
}

function findLogController(app: FastifyInstance): LogControllerLike | undefined {
  for (let o: object | null = app; o !== null; o = Object.getPrototypeOf(o)) {
    for (const symbol of Object.getOwnPropertySymbols(o)) {
      if (symbol.description === 'fastify.logController') {
        const value = (o as Record<symbol, unknown>)[symbol]
        return typeof value === 'object' && value !== null ? (value as LogControllerLike) : undefined
      }
    }
  }
  return undefined
}
