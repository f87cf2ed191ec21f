import { GoreliableError } from '@goreliable/core'

export { PoolTimeoutError } from '@goreliable/core'

/**
 * Error codes of @goreliable/pg. Each is documented in packages/pg/README.md (a test checks it). An acquire
 * timeout is core's `GR_ERR_POOL_TIMEOUT` (`PoolTimeoutError`), shared with every pool @goreliable knows.
 */
export const PgErrorCodes = {
  /** `withTransaction`'s function resolved, but PostgreSQL answered COMMIT by rolling back. */
  TRANSACTION_ROLLED_BACK: 'GR_ERR_TRANSACTION_ROLLED_BACK',
} as const

export type PgErrorCode = (typeof PgErrorCodes)[keyof typeof PgErrorCodes]

/**
 * Raised by `withTransaction` when the function resolved but nothing was committed. PostgreSQL answers COMMIT
 * in a failed transaction (a statement failed, and the function caught that error and carried on) with a
 * ROLLBACK and no error at all, so without this check the caller would believe its writes were saved.
 */
export class TransactionRolledBackError extends GoreliableError {
  constructor() {
    super(
      PgErrorCodes.TRANSACTION_ROLLED_BACK,
      'The transaction was rolled back instead of committed: a statement in it failed and its error was caught',
    )
    this.name = 'TransactionRolledBackError'
  }
}
