import { STATUS_CODES } from 'node:http'
import type { FastifyReply } from 'fastify'
import { FastifyErrorCodes } from './errors.js'

/**
 * Error codes of a connection-level failure reaching an upstream: the request never got an answer from it,
 * so the client's best move is to retry later (503 with `Retry-After`), not to report a bug (500) or blame a
 * gateway (502). Node's socket errors, and undici's (the engine of `fetch`) own codes for the same failures.
 */
export const UPSTREAM_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
])

const UPSTREAM_MESSAGE = 'An upstream service is unavailable'

/** How deep `cause` chains and AggregateErrors are followed: `fetch failed` → AggregateError → the socket's. */
const MAX_DEPTH = 4

/**
 * True when `err` is, or was caused by, a connection-level failure reaching an upstream: an error whose `code`
 * is one of {@link UPSTREAM_ERROR_CODES}, looked for on the error itself, along its `cause` chain and in an
 * AggregateError's `errors` (Node reports a failed connection to every address of a host as one).
 * `fetch()` rejects with `TypeError: fetch failed` whose `cause` carries the code, so that is found too.
 */
export function isUpstreamConnectionError(err: unknown): boolean {
  return findUpstreamCode(err, 0)
}

function findUpstreamCode(err: unknown, depth: number): boolean {
  if (typeof err !== 'object' || err === null || depth > MAX_DEPTH) return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && UPSTREAM_ERROR_CODES.has(code)) return true
  const errors = (err as { errors?: unknown }).errors
  if (Array.isArray(errors) && errors.some((e) => findUpstreamCode(e, depth + 1))) return true
  return findUpstreamCode((err as { cause?: unknown }).cause, depth + 1)
}

/**
 * The whole seconds an error asks the client to wait (`retryAfterSeconds`, as on core's BreakerOpenError and
 * PoolTimeoutError), or undefined when it carries none.
 */
function retryAfterOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const value = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.ceil(value) : undefined
}

/** The JSON body of every error this package answers: Fastify's own error shape, never a stack trace. */
export interface ErrorBody {
  statusCode: number
  code: string
  error: string
  message: string
}

/** Sends `{ statusCode, code, error, message }` as JSON, pre-serialized so a route's response schema cannot strip it. */
export function sendError(
  reply: FastifyReply,
  statusCode: number,
  code: string,
  message: string,
  retryAfterSeconds?: number,
): FastifyReply {
  const body: ErrorBody = { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message }
  reply.code(statusCode).type('application/json; charset=utf-8')
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds))
  return reply.send(JSON.stringify(body))
}

/**
 * Answers the errors a client can act on: one carrying `retryAfterSeconds` becomes 503 (429 if it says so)
 * with `Retry-After`, a connection-level upstream failure becomes 503 with `Retry-After:
 * upstreamRetryAfterSeconds`. Returns false, having sent nothing, for every other error.
 */
export function answerReliabilityError(
  err: unknown,
  reply: FastifyReply,
  upstreamRetryAfterSeconds: number,
): boolean {
  if (reply.sent || reply.raw.headersSent) return false
  const retryAfter = retryAfterOf(err)
  if (retryAfter !== undefined) {
    const e = err as { statusCode?: unknown; code?: unknown; message?: unknown }
    const status = e.statusCode === 429 ? 429 : 503
    const code = typeof e.code === 'string' ? e.code : FastifyErrorCodes.SERVICE_UNAVAILABLE
    const message =
      typeof e.message === 'string' && e.message ? e.message : 'Service unavailable; retry later'
    // Expected refusals (an open breaker, a saturated pool): their metrics tell the story, so no error line.
    reply.log.info({ code, retryAfterSeconds: retryAfter }, message)
    sendError(reply, status, code, message, retryAfter)
    return true
  }
  if (isUpstreamConnectionError(err)) {
    // The original error is logged, with its addresses; the client only learns that an upstream is down.
    reply.log.error({ err }, UPSTREAM_MESSAGE)
    sendError(reply, 503, FastifyErrorCodes.UPSTREAM_UNAVAILABLE, UPSTREAM_MESSAGE, upstreamRetryAfterSeconds)
    return true
  }
  return false
}
