import { InvalidOptionError } from '@goreliable/core'
import type { Pool, PoolClient } from 'pg'
import { isBrokenConnection } from './broken-connection.js'
import { isAcquireTimeout, pgInstrumentation, toPoolTimeout } from './pool-instrumentation.js'

const noop = () => {}

export function requirePool(pool: unknown): asserts pool is Pool {
  if (typeof (pool as Partial<Pool> | null)?.connect !== 'function') {
    throw new InvalidOptionError('pool', 'a pg Pool', pool)
  }
}

/**
 * One loan taken by a helper (`withClient`, `withTransaction`, `streamQuery`, `pgHealthCheck`). A class
 * and plain awaits rather than nested async functions: this sits on every helper call, where each promise
 * layer is measurable against a loopback round trip.
 */
export class Lease {
  /** Set once the connection failed during the loan. */
  broken: Error | undefined = undefined
  private onBroken: (() => void) | undefined = undefined
  private readonly onError = (err: Error) => {
    this.broken ??= err
    this.onBroken?.()
  }

  constructor(readonly client: PoolClient) {
    // Without an 'error' listener while lent, a connection failing between two queries would crash the
    // process (pg-pool listens only while the client is idle). pg reports a connection that ends
    // unexpectedly as an 'error' too.
    client.on('error', this.onError)
  }

  /** Settles when the connection fails during the loan: to stop waiting for a server that is gone. */
  whenBroken(): Promise<void> {
    if (this.broken !== undefined) return Promise.resolve()
    return new Promise<void>((resolve) => {
      this.onBroken = resolve
    })
  }

  /** Marks the connection as unusable (a failed ROLLBACK), so release destroys it. */
  markBroken(err: Error): void {
    this.onError(err)
  }

  /**
   * Returns the client to the pool, or destroys it (pg's `release(err)`) when the connection broke, when
   * `failure` says it did, or when the client is still inside a transaction: lent again, the next caller's
   * statements would run inside this caller's transaction.
   */
  release(failure?: unknown): void {
    const { client } = this
    client.off('error', this.onError)
    let destroyWith = this.broken
    if (destroyWith === undefined && failure !== undefined && isBrokenConnection(failure)) {
      destroyWith = failure as Error
    }
    if (destroyWith === undefined) {
      const status = client.getTransactionStatus?.()
      if (status === 'T' || status === 'E') {
        destroyWith = new Error('Client returned to the pool inside an open transaction')
      }
    }
    try {
      client.release(destroyWith)
    } catch (err) {
      // pg throws when the client was already released (fn released it itself). Never let that mask the
      // error the caller is about to see.
      if (failure === undefined) throw err
    }
  }
}

/**
 * Takes a client from `pool`. A pool that is not instrumented reports its timeouts as plain Errors: they
 * become `PoolTimeoutError` here too. With a signal, an abort stops the wait at once; the client, should it
 * come later, goes straight back to the pool.
 */
export function acquire(pool: Pool, signal?: AbortSignal): Promise<PoolClient> {
  const connecting = pgInstrumentation(pool) === undefined ? connectMappingTimeouts(pool) : pool.connect()
  return signal === undefined ? connecting : unlessAborted(connecting, signal)
}

function connectMappingTimeouts(pool: Pool): Promise<PoolClient> {
  return pool.connect().catch((err: unknown) => {
    throw isAcquireTimeout(err) ? toPoolTimeout(err, pool) : err
  })
}

function unlessAborted(connecting: Promise<PoolClient>, signal: AbortSignal): Promise<PoolClient> {
  if (signal.aborted) {
    connecting.then((client) => client.release(), noop)
    return Promise.reject(signal.reason)
  }
  return new Promise<PoolClient>((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason)
      connecting.then((client) => client.release(), noop)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    connecting.then(
      (client) => {
        signal.removeEventListener('abort', onAbort)
        resolve(client)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
