// Every error an example service answers itself has one JSON shape, `{ statusCode, code, error, message,
// field? }` (the shape @goreliable/fastify uses for its 503s), and a message that names what to fix: a
// client reading a 400 learns which field was wrong without reading the code, whichever hop answered.

import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify'
import { describeValidationError } from './validation-message.js'

/** The JSON body of every error answer. */
export interface ErrorBody {
  statusCode: number
  /** Stable code to match on, e.g. `VALIDATION_FAILED`. */
  code: string
  /** The HTTP reason phrase. */
  error: string
  message: string
  /** The request field the error is about, when there is one (`amount`, `Idempotency-Key`, `body`). */
  field?: string
}

/** The codes {@link installErrorHandlers} answers with; each service adds its own beside them. */
export const CommonErrorCodes = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  INVALID_JSON: 'INVALID_JSON',
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  NOT_FOUND: 'NOT_FOUND',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const

/** An error a handler or hook throws to answer the client with `statusCode`, this body and `headers`. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

/** Sends an {@link ErrorBody}. */
export function sendError(
  reply: FastifyReply,
  statusCode: number,
  code: string,
  message: string,
  field?: string,
): FastifyReply {
  const body: ErrorBody = { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message }
  if (field !== undefined) body.field = field
  return reply.code(statusCode).type('application/json; charset=utf-8').send(body)
}

/**
 * The app's error and not-found handlers. @goreliable/fastify answers the reliability errors first (an
 * open breaker, an exhausted pool, an unreachable upstream: 503 with `Retry-After`) and hands every other
 * error here.
 */
export function installErrorHandlers(app: FastifyInstance, bodyLimitBytes: number): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof HttpError) {
      reply.headers(err.headers)
      return sendError(reply, err.statusCode, err.code, err.message, err.field)
    }
    if (err.validation) {
      const { field, message } = describeValidationError(err.validation, err.validationContext)
      return sendError(reply, 400, CommonErrorCodes.VALIDATION_FAILED, message, field)
    }
    switch (err.code) {
      // 400 rather than Fastify's 413: the client sent a request it must change.
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(
          reply,
          400,
          CommonErrorCodes.BODY_TOO_LARGE,
          `body is larger than the limit of ${bodyLimitBytes} bytes`,
          'body',
        )
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendError(reply, 400, CommonErrorCodes.INVALID_JSON, 'body is not valid JSON', 'body')
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendError(reply, 400, CommonErrorCodes.VALIDATION_FAILED, 'body must be a JSON object', 'body')
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(
          reply,
          415,
          CommonErrorCodes.UNSUPPORTED_MEDIA_TYPE,
          'content-type must be application/json',
          'content-type',
        )
    }
    const status = err.statusCode ?? 500
    if (status >= 400 && status < 500) {
      // Fastify's other client errors (a bad Content-Length, ...): its own code and message.
      return sendError(reply, status, err.code ?? 'BAD_REQUEST', err.message)
    }
    request.log.error({ err }, 'request failed')
    return sendError(reply, 500, CommonErrorCodes.INTERNAL_ERROR, 'Internal server error')
  })
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, CommonErrorCodes.NOT_FOUND, `no route for ${request.method} ${request.url}`),
  )
}
