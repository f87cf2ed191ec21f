import { GoreliableError } from '@goreliable/core'

/**
 * Error codes of @goreliable/fastify. Each is documented in packages/fastify/README.md (a test checks it).
 * Core's codes (`GR_ERR_INVALID_OPTION` for bad options, `GR_ERR_PROFILER_BUSY` for a second CPU profile, ...)
 * are used as they are.
 */
export const FastifyErrorCodes = {
  /** `admin.port` is the port the main server listens on. */
  ADMIN_PORT_CONFLICT: 'GR_ERR_ADMIN_PORT_CONFLICT',
  /** A connection-level failure reaching an upstream (ECONNREFUSED, ECONNRESET, undici socket errors, ...). */
  UPSTREAM_UNAVAILABLE: 'GR_ERR_UPSTREAM_UNAVAILABLE',
  /** Load shedding refused a request because the event loop is overloaded. */
  OVERLOADED: 'GR_ERR_OVERLOADED',
  /** An error carried `retryAfterSeconds` but no string `code` of its own. */
  SERVICE_UNAVAILABLE: 'GR_ERR_SERVICE_UNAVAILABLE',
  /** A client outside `admin.allow` asked for `/metrics` or `/debug/pprof/*`. */
  ADDRESS_NOT_ALLOWED: 'GR_ERR_ADDRESS_NOT_ALLOWED',
  /** A query value on an admin route is malformed or out of range. */
  INVALID_QUERY: 'GR_ERR_INVALID_QUERY',
  /** An admin route failed unexpectedly: a metric's collect threw, a profile could not be captured. */
  ADMIN_FAILED: 'GR_ERR_ADMIN_FAILED',
} as const

export type FastifyErrorCode = (typeof FastifyErrorCodes)[keyof typeof FastifyErrorCodes]

/**
 * Thrown (as the rejection of `app.listen()`) when the main server is about to listen on the admin server's
 * port: the admin routes must never share the port the public traffic reaches.
 */
export class AdminPortConflictError extends GoreliableError {
  readonly port: number

  constructor(port: number) {
    super(
      FastifyErrorCodes.ADMIN_PORT_CONFLICT,
      `The main server cannot listen on port ${port}: it is the admin server's port (option admin.port)`,
    )
    this.name = 'AdminPortConflictError'
    this.port = port
  }
}
