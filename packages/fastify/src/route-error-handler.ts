import type { FastifyError, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { answerReliabilityError } from './error-reply.js'

type RouteErrorHandler = NonNullable<RouteOptions['errorHandler']>

/** Marks our wrappers, so the HEAD route Fastify derives from a GET route is not wrapped twice. */
const kWrapped = Symbol('goreliable.routeErrorHandler')

/**
 * The route-level error handler every route gets: reliability errors (`retryAfterSeconds`, connection-level
 * upstream failures) are answered 503 with `Retry-After`; every other error goes on, untouched, to the
 * route's own `errorHandler` if it has one, else to the app's error handlers (`setErrorHandler` anywhere,
 * then Fastify's default), exactly as without this plugin.
 *
 * Why a route-level handler and not `setErrorHandler`: the plugin is fastify-plugin-wrapped, so its
 * `setErrorHandler` would be the app's root handler. An app that then sets its own would replace it (with
 * Fastify's FSTWRN004 warning, or an error under `allowErrorHandlerOverride: false`) and lose the 503s.
 * A route-level handler runs first for the route's errors whatever the app sets, and Fastify passes what it
 * rethrows to the next handler in the chain.
 */
export function wrapRouteErrorHandler(
  own: RouteOptions['errorHandler'],
  upstreamRetryAfterSeconds: number,
): RouteErrorHandler {
  if (own !== undefined && (own as { [kWrapped]?: true })[kWrapped]) return own
  const handler = function goreliableErrorHandler(
    this: unknown,
    error: FastifyError,
    request: FastifyRequest,
    reply: FastifyReply,
  ) {
    if (answerReliabilityError(error, reply, upstreamRetryAfterSeconds)) return reply
    if (own !== undefined) return own.call(this as never, error, request, reply)
    // Thrown on: Fastify hands it to the next error handler, the app's (or its default).
    throw error
  }
  Object.defineProperty(handler, kWrapped, { value: true })
  return handler as RouteErrorHandler
}
