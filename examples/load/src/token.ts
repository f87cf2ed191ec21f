// The k6 script's set-up: a bearer token from the gateway, renewed before it expires.

/** A token and when it stops being valid (ms since the epoch). */
export interface Token {
  token: string
  expiresAt: number
}

/** Renew this long before expiry, as the k6 script does. */
const REFRESH_MARGIN_MS = 30_000
/** After a failed renewal, try again this soon (the current token may still be valid). */
const RETRY_MS = 5000

/** `POST {baseUrl}/auth/token` with `{ client_id, client_secret }`; throws with the gateway's answer. */
export async function fetchToken(baseUrl: string, clientId: string, clientSecret: string): Promise<Token> {
  const url = `${baseUrl}/auth/token`
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: clientId, client_secret: clientSecret }),
      signal: AbortSignal.timeout(10_000),
    })
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code
    throw new Error(`POST ${url} failed: ${cause ?? (err as Error).message}`)
  }
  const text = await res.text()
  if (res.status !== 200) throw new Error(`POST ${url} answered ${res.status}: ${text.slice(0, 200)}`)
  let body: { access_token?: unknown; expires_in?: unknown }
  try {
    body = JSON.parse(text) as typeof body
  } catch {
    throw new Error(`POST ${url} answered 200 with a body that is not JSON`)
  }
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw new Error(`POST ${url} answered without an access_token`)
  }
  // expires_in is in seconds (OAuth 2.0); without it, assume five minutes, as the k6 script does.
  const expiresInSeconds = typeof body.expires_in === 'number' ? body.expires_in : 300
  return { token: body.access_token, expiresAt: Date.now() + expiresInSeconds * 1000 }
}

/** Holds the current token and renews it in the background; `current()` is cheap enough per request. */
export interface TokenKeeper {
  current(): string
  stop(): void
}

/** Fetches the first token (throws if the gateway refuses), then keeps it fresh until `stop()`. */
export async function keepToken(
  baseUrl: string,
  clientId: string,
  clientSecret: string,
  onError: (err: Error) => void,
): Promise<TokenKeeper> {
  let token = await fetchToken(baseUrl, clientId, clientSecret)
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const schedule = (ms: number) => {
    if (stopped) return
    timer = setTimeout(renew, Math.max(1000, ms)).unref()
  }
  const renew = () => {
    fetchToken(baseUrl, clientId, clientSecret).then(
      (next) => {
        token = next
        schedule(next.expiresAt - Date.now() - REFRESH_MARGIN_MS)
      },
      (err: Error) => {
        onError(err)
        schedule(RETRY_MS)
      },
    )
  }
  schedule(token.expiresAt - Date.now() - REFRESH_MARGIN_MS)
  return {
    current: () => token.token,
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}
