// The public surface, as the compiler sees it: what users get back, and which options it refuses.
import type { GoreliableHost } from '@goreliable/core'
import type pg from 'pg'
import type { Registry } from 'prom-client'
import { describe, expectTypeOf, it } from 'vitest'
import {
  createPool,
  instrumentPool,
  type LeakReport,
  type PgPoolOptions,
  pgCloser,
  pgHealthCheck,
  streamQuery,
  withClient,
  withTransaction,
} from '../src/index.js'

declare const registry: Registry
declare const host: GoreliableHost
declare const pool: pg.Pool

// The checks are compiled by `tsc -p tsconfig.test.json` (npm run typecheck) and never run: the values
// above exist only as types.
const never = (_checks: () => unknown) => {}

describe('types', () => {
  it('createPool and instrumentPool return node-postgres pools', () =>
    never(() => {
      expectTypeOf(createPool({}, { name: 'main', registry })).toEqualTypeOf<pg.Pool>()
      expectTypeOf(createPool({ max: 5 }, { name: 'main', host })).toEqualTypeOf<pg.Pool>()
      class MyPool extends (Object as unknown as typeof pg.Pool) {}
      expectTypeOf(instrumentPool(new MyPool(), { name: 'main', registry })).toEqualTypeOf<MyPool>()
      expectTypeOf<PgPoolOptions['onLeak']>().toEqualTypeOf<((report: LeakReport) => void) | undefined>()

      // @ts-expect-error name is required
      createPool({}, { registry })
      // @ts-expect-error a misspelt option is refused
      createPool({}, { name: 'main', registry, acquireTimeout: 5 })
      // @ts-expect-error units are in the names, and the values are numbers
      createPool({}, { name: 'main', registry, acquireTimeoutMs: '5s' })
    }))

  it('helpers keep the types of fn and of the rows', () =>
    never(async () => {
      expectTypeOf(withClient(pool, async () => 42)).toEqualTypeOf<Promise<number>>()
      expectTypeOf(withTransaction(pool, () => 'x', { isolationLevel: 'serializable' })).toEqualTypeOf<
        Promise<string>
      >()
      for await (const row of streamQuery<{ id: number }>(pool, 'SELECT id FROM t')) {
        expectTypeOf(row).toEqualTypeOf<{ id: number }>()
      }
      expectTypeOf(streamQuery(pool, 'SELECT 1')).toEqualTypeOf<AsyncIterable<pg.QueryResultRow>>()
      expectTypeOf(pgHealthCheck(pool)).toEqualTypeOf<(signal?: AbortSignal) => Promise<void>>()
      expectTypeOf(pgCloser(pool)).toEqualTypeOf<() => Promise<void>>()

      // @ts-expect-error not an isolation level PostgreSQL knows
      withTransaction(pool, () => 1, { isolationLevel: 'snapshot' })
      // @ts-expect-error values are an array
      streamQuery(pool, 'SELECT $1', 1)
      // @ts-expect-error batchSize is a number of rows
      streamQuery(pool, 'SELECT 1', [], { batchSize: '100' })
    }))
})
