// POST /auth/token: client credentials in, a short-lived bearer token out (the shape of an OAuth 2.0
// client-credentials answer, RFC 6749 section 5.1).

import type { FastifyInstance } from 'fastify'
import type { AuthClients } from './auth-clients.js'
import { GatewayErrorCodes, HttpError } from './http-errors.js'
import type { Tokens } from './tokens.js'

const tokenRequest = {
  type: 'object',
  required: ['client_id', 'client_secret'],
  properties: {
    client_id: { type: 'string', minLength: 1, maxLength: 200 },
    client_secret: { type: 'string', minLength: 1, maxLength: 1000 },
  },
} as const

const tokenResponse = {
  type: 'object',
  required: ['access_token', 'token_type', 'expires_in'],
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string' },
    expires_in: { type: 'integer' },
  },
} as const

/** Registers `POST /auth/token`. */
export function registerAuthRoutes(app: FastifyInstance, clients: AuthClients, tokens: Tokens): void {
  app.post<{ Body: { client_id: string; client_secret: string } }>(
    '/auth/token',
    { schema: { body: tokenRequest, response: { 200: tokenResponse } } },
    async (request, reply) => {
      const { client_id: clientId, client_secret: secret } = request.body
      if (!clients.verify(clientId, secret)) {
        // One answer for an unknown client and a wrong secret: no hint of which ids exist.
        throw new HttpError(401, GatewayErrorCodes.INVALID_CLIENT, 'unknown client or wrong secret')
      }
      // A token is a credential: no cache may keep it (RFC 6749 section 5.1).
      reply.header('cache-control', 'no-store')
      return {
        access_token: await tokens.issue(clientId),
        token_type: 'Bearer',
        expires_in: tokens.ttlSeconds,
      }
    },
  )
}
