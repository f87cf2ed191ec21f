import { InvalidOptionError } from '@goreliable/core'
import pg from 'pg'
import { instrumentPool } from './instrument-pool.js'
import { instrumentPoolOptionKeys } from './pool-options.js'
import type { PgPoolOptions } from './types.js'

/** Every option `createPool` accepts (the same as `instrumentPool`); the docs test checks each one. */
export const createPoolOptionKeys = instrumentPoolOptionKeys

/**
 * Creates a node-postgres `Pool` from `config` (pg's own `PoolConfig`, unchanged) and instruments it with
 * `instrumentPool(pool, options)`: one call for metrics, bounded waits, leak detection and, given a `host`,
 * readiness and shutdown.
 *
 * @example
 * const pool = createPool({ connectionString: process.env.DATABASE_URL, max: 20 }, { name: 'main', host: app.goreliable })
 */
export function createPool(config: pg.PoolConfig, options: PgPoolOptions): pg.Pool {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new InvalidOptionError('config', 'a pg PoolConfig object', config)
  }
  return instrumentPool(new pg.Pool(config), options)
}
