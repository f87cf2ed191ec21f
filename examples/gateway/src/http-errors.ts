// Every error the gateway answers itself has one JSON shape, `{ statusCode, code, error, message, field? }`,
// the shape of @goreliable/fastify's 503s and of the order service's errors, which the gateway passes on
// unchanged. So a client parses one error format whichever hop answered.

import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify'
import { describeValidationError } from './validation-message.js'

/** The JSON body of every error answer. */
export interface ErrorBody {
  statusCode: number
  /** Stable code to match on, e.g. `INVALID_TOKEN`. */
  code: string
  /** The HTTP reason phrase. */
  error: string
  message: string
  /** The request field the error is about, when there is one. */
  field?: string
}

/** Error codes of the gateway's own answers, besides @goreliable/fastify's 503 codes. */
export const GatewayErrorCodes = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  INVALID_JSON: 'INVALID_JSON',
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  INVALID_CLIENT: 'INVALID_CLIENT',
  MISSING_TOKEN: 'MISSING_TOKEN',
  INVALID_TOKEN: 'INVALID_TOKEN',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  NOT_FOUND: 'NOT_FOUND',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const

/** An error a handler or hook throws to answer the client with `statusCode` and this body. */
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
 * The app's error and not-found handlers. @goreliable/fastify answers the reliability errors first (an open
 * breaker, an unreachable order service: 503 with `Retry-After`) and hands every other error here.
 */
export function installErrorHandlers(app: FastifyInstance, bodyLimitBytes: number): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof HttpError) {
      reply.headers(err.headers)
      return sendError(reply, err.statusCode, err.code, err.message, err.field)
    }
    if (err.validation) {
      const { field, message } = describeValidationError(err.validation, err.validationContext)
      return sendError(reply, 400, GatewayErrorCodes.VALIDATION_FAILED, message, field)
    }
    switch (err.code) {
      // 400 rather than Fastify's 413, as the order service answers it: the client must change its request.
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(
          reply,
          400,
          GatewayErrorCodes.BODY_TOO_LARGE,
          `body is larger than the limit of ${bodyLimitBytes} bytes`,
          'body',
        )
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendError(reply, 400, GatewayErrorCodes.INVALID_JSON, 'body is not valid JSON', 'body')
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendError(
          reply,
          400,
          GatewayErrorCodes.VALIDATION_FAILED,
          'body must be a JSON object',
          'body',
        )
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(
          reply,
          415,
          GatewayErrorCodes.UNSUPPORTED_MEDIA_TYPE,
          'content-type must be application/json',
          'content-type',
        )
    }
    const status = err.statusCode ?? 500
    if (status >= 400 && status < 500) return sendError(reply, status, err.code ?? 'BAD_REQUEST', err.message)
    request.log.error({ err }, 'request failed')
    return sendError(reply, 500, GatewayErrorCodes.INTERNAL_ERROR, 'Internal server error')
  })
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, GatewayErrorCodes.NOT_FOUND, `no route for ${request.method} ${request.url}`),
  )
}
