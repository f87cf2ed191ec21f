import { GoreliableError } from '@goreliable/core'

/** Error codes of the chaos and capacity tools. Each is documented in examples/chaos/README.md (a test checks it). */
export const ChaosErrorCodes = {
  /** `setFault()` was called on a fault proxy after `close()`. */
  PROXY_CLOSED: 'GR_ERR_CHAOS_PROXY_CLOSED',
  /** An experiment's `setup`, `fault`, `heal`, `checks` or `teardown` did not settle within `hookTimeoutMs`. */
  HOOK_TIMEOUT: 'GR_ERR_CHAOS_HOOK_TIMEOUT',
  /** A command-line argument of `chaos` or `capacity` is unknown or has a bad value. */
  BAD_ARGUMENT: 'GR_ERR_CHAOS_BAD_ARGUMENT',
} as const

/** One of {@link ChaosErrorCodes}. */
export type ChaosErrorCode = (typeof ChaosErrorCodes)[keyof typeof ChaosErrorCodes]

/** An error of the chaos tools: a coded {@link GoreliableError} whose message says what to do. */
export class ChaosError extends GoreliableError {
  constructor(code: ChaosErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options)
    this.name = 'ChaosError'
  }
}
