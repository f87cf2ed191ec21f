// The API clients allowed to get a token, and the check of their secret. Secrets are compared as SHA-256
// digests with timingSafeEqual, and an unknown client id costs the same comparison, so response times say
// nothing about which ids exist or how much of a secret was right.

import { createHash, timingSafeEqual } from 'node:crypto'

/** Checks client credentials. */
export interface AuthClients {
  /** True when `clientId` is a known client and `secret` its secret. */
  verify(clientId: string, secret: string): boolean
  /** How many clients there are. */
  readonly size: number
}

const digest = (value: string) => createHash('sha256').update(value).digest()
const NOBODY = digest('no such client')

/**
 * Parses `AUTH_CLIENTS`: comma-separated `client_id:client_secret` pairs (the secret may itself contain
 * colons; ids may not). @throws TypeError naming the bad entry.
 */
export function parseAuthClients(value: string): Record<string, string> {
  const clients: Record<string, string> = {}
  for (const entry of value.split(',').map((e) => e.trim())) {
    if (entry === '') continue
    const colon = entry.indexOf(':')
    const id = entry.slice(0, colon)
    const secret = entry.slice(colon + 1)
    if (colon <= 0 || secret === '') {
      throw new TypeError(
        `expected client_id:client_secret, got ${JSON.stringify(entry.replace(/:.*/, ':…'))}`,
      )
    }
    if (Object.hasOwn(clients, id)) throw new TypeError(`client ${JSON.stringify(id)} is listed twice`)
    clients[id] = secret
  }
  return clients
}

/** The clients of `clients` (id to secret). */
export function createAuthClients(clients: Readonly<Record<string, string>>): AuthClients {
  const digests = new Map(Object.entries(clients).map(([id, secret]) => [id, digest(secret)]))
  return {
    size: digests.size,
    verify(clientId, secret) {
      const expected = digests.get(clientId)
      const same = timingSafeEqual(expected ?? NOBODY, digest(secret))
      return expected !== undefined && same
    },
  }
}
