import type { Pool } from 'pg'
import { requirePool } from './lease.js'
import { pgInstrumentation } from './pool-instrumentation.js'

/**
 * A shutdown closer for core's `shutdown.addCloser(name, closer)`: ends the pool (pg's `pool.end()`), which
 * closes idle connections at once and each lent one as it is released, and resolves when all are closed. A
 * client that is never released keeps it waiting until the shutdown's `timeoutMs`, and the leak detector
 * names the code that took it. Calling it on a pool that is already ending waits for that end instead of
 * failing as a second `pool.end()` would.
 *
 * @example
 * shutdown.addCloser('pg', pgCloser(pool))
 */
export function pgCloser(pool: Pool): () => Promise<void> {
  requirePool(pool)
  return async () => {
    const ended = pgInstrumentation(pool)?.ended
    if (ended !== undefined) return ended
    if (!pool.ending) return pool.end()
    // A pool that is not instrumented and ends already: pg offers no promise for that end, so watch it.
    while (!pool.ended) await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
