// Short-lived bearer tokens: JWTs signed with HS256 through `jose`. The gateway is both issuer and
// verifier, so a shared secret is enough; the issuer, audience, algorithm and expiry are all checked.

import { randomUUID } from 'node:crypto'
import { errors, jwtVerify, SignJWT } from 'jose'

/** The `iss` claim of every token. */
export const TOKEN_ISSUER = 'goreliable-example-gateway'
/** The `aud` claim of every token. */
export const TOKEN_AUDIENCE = 'goreliable-example-api'
/** HMAC keys shorter than the hash output weaken HS256 (RFC 7518 section 3.2). */
export const MIN_SECRET_BYTES = 32

/** Why a token was refused. */
export type TokenProblem = 'expired' | 'invalid'

/** Issues and verifies tokens. */
export interface Tokens {
  /** A signed token for `clientId`, valid for `ttlSeconds`. */
  issue(clientId: string): Promise<string>
  /** The client id the token was issued to, or why it is refused. */
  verify(token: string): Promise<{ clientId: string } | { problem: TokenProblem }>
  readonly ttlSeconds: number
}

/** Tokens signed with `secret` (at least {@link MIN_SECRET_BYTES} bytes). */
export function createTokens(secret: string, ttlSeconds: number): Tokens {
  const key = new TextEncoder().encode(secret)
  if (key.byteLength < MIN_SECRET_BYTES) {
    throw new TypeError(`the JWT secret must be at least ${MIN_SECRET_BYTES} bytes, got ${key.byteLength}`)
  }
  return {
    ttlSeconds,
    issue(clientId) {
      return new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(clientId)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .setJti(randomUUID())
        .sign(key)
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          requiredClaims: ['exp', 'sub'],
        })
        return { clientId: payload.sub as string }
      } catch (err) {
        return { problem: err instanceof errors.JWTExpired ? 'expired' : 'invalid' }
      }
    },
  }
}
