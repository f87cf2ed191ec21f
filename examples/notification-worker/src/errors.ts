// The notification worker's own errors. It is an example service, not part of the SDK, so its codes are its
// own (NOTIFY_*) and its errors carry no @goreliable brand; option errors are core's InvalidOptionError.

/** Every code the notification worker raises. Each is documented in README.md (a test checks it). */
export const NotificationErrorCodes = {
  /** The email provider could not take the notification now (5xx, 408, 429, timeout, connection failure). */
  PROVIDER_UNAVAILABLE: 'NOTIFY_PROVIDER_UNAVAILABLE',
  /** The email provider refused the notification itself (a 4xx other than 408 and 429). */
  PROVIDER_REJECTED: 'NOTIFY_PROVIDER_REJECTED',
  /** The call was abandoned because the worker is stopping; the message was handed back to the stream. */
  ABORTED: 'NOTIFY_ABORTED',
  /** An `orders.created` payload is not an order event; the message goes to the dead-letter subject. */
  INVALID_ORDER: 'NOTIFY_INVALID_ORDER',
  /** The stream or consumer exists with a configuration the worker cannot use. */
  STREAM_CONFIG: 'NOTIFY_STREAM_CONFIG',
  /** An environment variable of the entry point has a value it cannot use. */
  INVALID_ENV: 'NOTIFY_INVALID_ENV',
} as const

/** One of {@link NotificationErrorCodes}. */
export type NotificationErrorCode = (typeof NotificationErrorCodes)[keyof typeof NotificationErrorCodes]

/** Base class of the worker's errors: a stable `code` to match on. */
export class NotificationError extends Error {
  readonly code: NotificationErrorCode

  constructor(code: NotificationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'NotificationError'
    this.code = code
  }
}

/**
 * The provider could not take the notification now. Counts as a failure of the `email-provider` breaker:
 * enough of them open it, and the worker stops pulling.
 */
export class ProviderUnavailableError extends NotificationError {
  /** The provider's HTTP status, or undefined when no answer came (timeout, reset, refused). */
  readonly statusCode: number | undefined

  constructor(message: string, statusCode?: number, cause?: unknown) {
    super(NotificationErrorCodes.PROVIDER_UNAVAILABLE, message, { cause })
    this.name = 'ProviderUnavailableError'
    this.statusCode = statusCode
  }
}

/**
 * The provider refused this notification (a 4xx): the message's fault, not the provider's. It does not count
 * against the breaker; the worker retries it with backoff and dead-letters it after `maxDeliver` failures.
 */
export class ProviderRejectedError extends NotificationError {
  readonly statusCode: number

  constructor(message: string, statusCode: number) {
    super(NotificationErrorCodes.PROVIDER_REJECTED, message)
    this.name = 'ProviderRejectedError'
    this.statusCode = statusCode
  }
}

/** The worker stopped waiting for this call (shutdown); neither the message's nor the provider's fault. */
export class NotificationAbortedError extends NotificationError {
  constructor(cause?: unknown) {
    super(NotificationErrorCodes.ABORTED, 'Notification abandoned: the worker is stopping', { cause })
    this.name = 'NotificationAbortedError'
  }
}

/** An `orders.created` payload that is not an order event. */
export class InvalidOrderError extends NotificationError {
  constructor(problem: string) {
    super(NotificationErrorCodes.INVALID_ORDER, `Not an orders.created event: ${problem}`)
    this.name = 'InvalidOrderError'
  }
}

/** The stream or the consumer exists with settings the worker cannot use; fix them or delete them. */
export class StreamConfigError extends NotificationError {
  constructor(message: string, cause?: unknown) {
    super(NotificationErrorCodes.STREAM_CONFIG, message, { cause })
    this.name = 'StreamConfigError'
  }
}

/** An environment variable the entry point reads has a value it cannot use; `variable` names it. */
export class InvalidEnvError extends NotificationError {
  readonly variable: string

  constructor(variable: string, expected: string, value: string) {
    super(NotificationErrorCodes.INVALID_ENV, `${variable} must be ${expected}, got ${JSON.stringify(value)}`)
    this.name = 'InvalidEnvError'
    this.variable = variable
  }
}
