import { ErrorCodes, TimeoutError, validate } from '@goreliable/core'
import type { Pool } from 'pg'
import { acquire, Lease, requirePool } from './lease.js'

export interface PgHealthCheckOptions {
  /**
   * The longest one check may take, in ms, waiting for a connection included. Keep it below the probe's
   * timeout (Kubernetes' default is 1 s).
   * @default 500
   */
  timeoutMs?: number
}

/** Every option `pgHealthCheck` accepts; the docs test checks each one is documented. */
export const pgHealthCheckOptionKeys = ['timeoutMs'] as const

/**
 * A readiness check for core's `health.addCheck({ kind: 'readiness', check })`: runs `SELECT 1` on a client
 * of `pool` and resolves, or rejects when the server does not answer, the query fails, or `timeoutMs`
 * passes (`GR_ERR_CHECK_TIMEOUT`) or the health's signal aborts first. It goes through the pool on purpose:
 * a pool saturated for longer than `timeoutMs` cannot serve this instance's requests either. A client whose
 * check did not succeed is destroyed, not lent again.
 *
 * @example
 * health.addCheck({ name: 'pg', kind: 'readiness', check: pgHealthCheck(pool, { timeoutMs: 300 }) })
 */
export function pgHealthCheck(
  pool: Pool,
  options: PgHealthCheckOptions = {},
): (signal?: AbortSignal) => Promise<void> {
  requirePool(pool)
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, pgHealthCheckOptionKeys)
  const timeoutMs = validate.optionalNumber('timeoutMs', o.timeoutMs, 500, { min: 1, max: 2_147_483_647 })

  return async (signal) => {
    const controller = new AbortController()
    const timer = setTimeout(
      () => controller.abort(new TimeoutError(ErrorCodes.CHECK_TIMEOUT, 'pg health check', timeoutMs)),
      timeoutMs,
    )
    timer.unref()
    const onAbort = () => controller.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    if (signal?.aborted) onAbort()
    try {
      const loan = new Lease(await acquire(pool, controller.signal))
      try {
        await abortable(loan.client.query('SELECT 1'), controller.signal)
        loan.release()
      } catch (err) {
        // A timed-out query may still be running on the connection: do not lend it in that state.
        loan.markBroken(err as Error)
        loan.release(err)
        throw err
      }
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
