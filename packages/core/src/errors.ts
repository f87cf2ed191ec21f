/**
 * Every error this project throws carries a stable `code` that users match on, and a brand that survives
 * duplicate installs: two copies of @goreliable/core in one process each have their own classes, so
 * `instanceof` fails across them, but `Symbol.for` returns the same symbol everywhere (undici does the same).
 */
const kGoreliableError = Symbol.for('goreliable.error')

/** All error codes of @goreliable/core. Each is documented in packages/core/README.md (a test checks it). */
export const ErrorCodes = {
  /** An option passed to a factory or plugin is missing or invalid. */
  INVALID_OPTION: 'GR_ERR_INVALID_OPTION',
  /** A call was refused because its circuit breaker is open. */
  BREAKER_OPEN: 'GR_ERR_BREAKER_OPEN',
  /** No pooled resource became free within the acquire timeout. */
  POOL_TIMEOUT: 'GR_ERR_POOL_TIMEOUT',
  /** A CPU profile is already being captured. */
  PROFILER_BUSY: 'GR_ERR_PROFILER_BUSY',
  /** A health check did not answer within its timeout. */
  CHECK_TIMEOUT: 'GR_ERR_CHECK_TIMEOUT',
  /** A queue-depth collector did not answer within its timeout. */
  COLLECT_TIMEOUT: 'GR_ERR_COLLECT_TIMEOUT',
  /** A shutdown closer did not finish within the shutdown timeout. */
  SHUTDOWN_TIMEOUT: 'GR_ERR_SHUTDOWN_TIMEOUT',
  /** Continuous profiling already runs with other options, or another library owns the wall profiler. */
  PROFILER_CONFLICT: 'GR_ERR_PROFILER_CONFLICT',
  /** A profiler handle was used after `close()`. */
  PROFILER_CLOSED: 'GR_ERR_PROFILER_CLOSED',
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

export interface GoreliableErrorOptions {
  statusCode?: number
  retryAfterSeconds?: number
  cause?: unknown
}

/** Base of every runtime error raised by @goreliable packages. */
export class GoreliableError extends Error {
  readonly code: string
  /** HTTP status a server should answer with, where HTTP applies. */
  readonly statusCode: number | undefined
  /** Whole seconds a client should wait before retrying; servers send it as `Retry-After`. */
  readonly retryAfterSeconds: number | undefined

  constructor(code: string, message: string, options: GoreliableErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'GoreliableError'
    this.code = code
    this.statusCode = options.statusCode
    this.retryAfterSeconds = options.retryAfterSeconds
  }

  get [kGoreliableError](): true {
    return true
  }
}

/**
 * Invalid options are programmer errors, so they are `TypeError`s (as Node's own ERR_INVALID_ARG_TYPE is),
 * thrown at creation time, with the option's name in the message and in `option`.
 */
export class InvalidOptionError extends TypeError {
  readonly code = ErrorCodes.INVALID_OPTION
  readonly option: string

  constructor(option: string, expected: string, received?: unknown) {
    super(`Invalid option "${option}": expected ${expected}${describeReceived(received)}`)
    this.name = 'InvalidOptionError'
    this.option = option
  }

  get [kGoreliableError](): true {
    return true
  }
}

/** Raised while a circuit breaker is open. `retryAfterSeconds` is the time left until it tries half-open. */
export class BreakerOpenError extends GoreliableError {
  readonly breakerName: string

  constructor(breakerName: string, retryAfterSeconds: number) {
    super(ErrorCodes.BREAKER_OPEN, `Circuit breaker "${breakerName}" is open`, {
      statusCode: 503,
      retryAfterSeconds,
    })
    this.name = 'BreakerOpenError'
    this.breakerName = breakerName
  }
}

/** Raised when no pooled resource became free within the acquire timeout. */
export class PoolTimeoutError extends GoreliableError {
  readonly poolName: string

  constructor(poolName: string, acquireTimeoutMs: number, retryAfterSeconds = 1, cause?: unknown) {
    super(ErrorCodes.POOL_TIMEOUT, `Pool "${poolName}" had no free resource within ${acquireTimeoutMs} ms`, {
      statusCode: 503,
      retryAfterSeconds,
      cause,
    })
    this.name = 'PoolTimeoutError'
    this.poolName = poolName
  }
}

/** Raised when a CPU profile is requested while another is being captured. */
export class ProfilerBusyError extends GoreliableError {
  constructor() {
    super(ErrorCodes.PROFILER_BUSY, 'A CPU profile is already being captured', { statusCode: 409 })
    this.name = 'ProfilerBusyError'
  }
}

/** Raised when an operation (a check, a collector, a closer) does not finish within its time limit. */
export class TimeoutError extends GoreliableError {
  constructor(code: ErrorCode, what: string, timeoutMs: number) {
    super(code, `${what} did not finish within ${timeoutMs} ms`)
    this.name = 'TimeoutError'
  }
}

/** True for any error raised by any copy of any @goreliable package. */
export function isGoreliableError(err: unknown): err is GoreliableError | InvalidOptionError {
  return (
    typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[kGoreliableError] === true
  )
}

function describeReceived(received: unknown): string {
  if (received === undefined) return ''
  if (typeof received === 'function') return ', received a function'
  if (typeof received === 'string')
    return `, received "${received.length > 40 ? `${received.slice(0, 40)}…` : received}"`
  if (typeof received === 'number' || typeof received === 'boolean') return `, received ${received}`
  if (received === null) return ', received null'
  if (Array.isArray(received)) return ', received an array'
  return `, received ${typeof received}`
}
