// The onRequest hook that guards /api/v1/*: a valid bearer token or 401, before the body is even read.
// 401s carry WWW-Authenticate as RFC 6750 describes, so a client knows to get a new token.

import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { GatewayErrorCodes, HttpError } from './http-errors.js'
import type { Tokens } from './tokens.js'

const REALM = 'goreliable-example'
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i

declare module 'fastify' {
  interface FastifyRequest {
    /** The client the bearer token was issued to; set on /api/v1/* routes. */
    clientId?: string
  }
}

/** A hook that sets `request.clientId` from a valid token, or answers 401. */
export function requireBearer(tokens: Tokens): onRequestAsyncHookHandler {
  return async function requireBearerToken(request: FastifyRequest) {
    const header = request.headers.authorization
    if (header === undefined || header === '') {
      throw new HttpError(
        401,
        GatewayErrorCodes.MISSING_TOKEN,
        'an Authorization: Bearer token is required',
        undefined,
        {
          'www-authenticate': `Bearer realm="${REALM}"`,
        },
      )
    }
    const token = BEARER.exec(header)?.[1]
    const result = token === undefined ? ({ problem: 'invalid' } as const) : await tokens.verify(token)
    if ('problem' in result) {
      const expired = result.problem === 'expired'
      const description = expired ? 'the token has expired' : 'the token is not valid'
      throw new HttpError(
        401,
        expired ? GatewayErrorCodes.TOKEN_EXPIRED : GatewayErrorCodes.INVALID_TOKEN,
        `${description}; get a new one from POST /auth/token`,
        undefined,
        {
          'www-authenticate': `Bearer realm="${REALM}", error="invalid_token", error_description="${description}"`,
        },
      )
    }
    request.clientId = result.clientId
  }
}
