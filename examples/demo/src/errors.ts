import { GoreliableError } from '@goreliable/core'

/** Error codes of the demo launcher. Each is documented in examples/demo/README.md (a test checks it). */
export const DemoErrorCodes = {
  /** `DATABASE_URL` is set but nothing answers there, or the embedded PGlite failed to start. */
  POSTGRES_UNAVAILABLE: 'GR_ERR_DEMO_POSTGRES_UNAVAILABLE',
  /** No NATS server could be used or started: the message says how to get one. */
  NATS_UNAVAILABLE: 'GR_ERR_DEMO_NATS_UNAVAILABLE',
  /** A service's built entry file does not exist (run `npm run build`). */
  SERVICE_ENTRY_MISSING: 'GR_ERR_DEMO_SERVICE_ENTRY_MISSING',
  /** A service did not answer its readiness URL with 200 in time. */
  SERVICE_NOT_READY: 'GR_ERR_DEMO_SERVICE_NOT_READY',
  /** A service exited while the launcher was waiting for it to be ready. */
  SERVICE_EXITED: 'GR_ERR_DEMO_SERVICE_EXITED',
} as const

/** One of {@link DemoErrorCodes}. */
export type DemoErrorCode = (typeof DemoErrorCodes)[keyof typeof DemoErrorCodes]

/** An error of the demo launcher: a coded {@link GoreliableError} whose message says what to do. */
export class DemoError extends GoreliableError {
  constructor(code: DemoErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options)
    this.name = 'DemoError'
  }
}
