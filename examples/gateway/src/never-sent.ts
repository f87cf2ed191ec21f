// Which failures prove that a request never reached the order service, so that sending it to another
// instance cannot make it happen twice, whatever its method.

/**
 * Codes of failures before a single byte of the request left: the connection was refused, could not be
 * opened in time, or the host could not be found or reached. A reset or a closed socket is not among them:
 * the request may have been read, and only an idempotent request may be sent again after one.
 */
const NEVER_SENT_CODES = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
])

/** How deep to follow `cause` (fetch wraps undici's error in a TypeError) and AggregateError's `errors`. */
const MAX_DEPTH = 5

/** True when `err`, or an error it wraps, says the connection was never established. */
export function isNeverSent(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > MAX_DEPTH) return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && NEVER_SENT_CODES.has(code)) return true
  // Happy eyeballs: every address refused.
  const errors = (err as { errors?: unknown }).errors
  if (Array.isArray(errors) && errors.length > 0 && errors.every((e) => isNeverSent(e, depth + 1)))
    return true
  return isNeverSent((err as { cause?: unknown }).cause, depth + 1)
}
