// The bearer token the load sends: issued by any running gateway (they share the secret), renewed in the
// background once half its life is gone, so a long run never sends an expired one.

import type { ServiceProcess } from './service-process.js'

/** The client the stack's gateways know (`AUTH_CLIENTS`). */
export const STACK_CLIENT = { id: 'chaos', secret: 'chaos-secret' } as const

/** The lifetime of the stack's tokens (`TOKEN_TTL_SECONDS`): longer than a full chaos run. */
export const STACK_TOKEN_TTL_SECONDS = 3600

/** A token holder. */
export interface TokenSource {
  /** The current token ('' before the first refresh). */
  current(): string
  /** Gets a new token from a running gateway. */
  refresh(): Promise<void>
}

/** A token source over the gateways (the first running one answers). */
export function createTokenSource(gateways: () => ServiceProcess[]): TokenSource {
  let token = ''
  let issuedAt = 0
  const refresh = async () => {
    const gateway = gateways().find((g) => g.running)
    if (!gateway) throw new Error('no gateway is running to issue a token')
    const res = await fetch(`${gateway.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: STACK_CLIENT.id, client_secret: STACK_CLIENT.secret }),
      signal: AbortSignal.timeout(5000),
    })
    if (res.status !== 200) throw new Error(`POST /auth/token answered ${res.status}`)
    token = ((await res.json()) as { access_token: string }).access_token
    issuedAt = Date.now()
  }
  return {
    current() {
      if (issuedAt && Date.now() - issuedAt > (STACK_TOKEN_TTL_SECONDS * 1000) / 2) {
        issuedAt = Date.now()
        void refresh().catch(() => {})
      }
      return token
    },
    refresh,
  }
}
