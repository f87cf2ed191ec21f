/**
 * SQLSTATEs after which the session is gone: class 08 (connection exception), and 57P01..57P03 (the backend
 * was terminated, by `pg_terminate_backend` or a shutdown, or the server cannot accept connections now).
 */
const CONNECTION_SQLSTATE = /^(08...|57P0[123])$/

/** Socket errors Node reports when the TCP connection to the server broke. */
const SOCKET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
])

/**
 * pg's own errors for a client whose connection broke or whose protocol state is unknown. They carry no
 * code. 'Query read timeout' (pg's `query_timeout`) leaves a statement running on the connection.
 */
const CONNECTION_MESSAGES = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
])

/**
 * True when `err` says the client's connection can no longer be trusted, so the client must be destroyed
 * (`release(err)`) rather than lent to the next caller. An ordinary SQL error (a constraint, a syntax
 * error, a statement timeout) leaves the session usable and is not one of these: destroying a connection
 * for each would churn connections just when the service is under stress.
 */
export function isBrokenConnection(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const { code, message } = err as { code?: unknown; message?: unknown }
  if (typeof code === 'string' && (CONNECTION_SQLSTATE.test(code) || SOCKET_CODES.has(code))) return true
  return typeof message === 'string' && CONNECTION_MESSAGES.has(message)
}
