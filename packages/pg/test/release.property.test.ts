// The property the package exists for: however a caller leaves a cursor loop or a transaction (early
// break, a throw in the loop body, an abort, a query failing half-way, a rollback), every client goes back
// to the pool and no connection is left busy on the server.
import fc from 'fast-check'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { streamQuery, withTransaction } from '../src/index.js'
import { adminClient, databaseUrl, serverStates, testPool, until } from './helpers.js'

type Action =
  | { kind: 'complete'; rows: number; batchSize: number }
  | { kind: 'break'; rows: number; batchSize: number; after: number }
  | { kind: 'throw'; rows: number; batchSize: number; after: number }
  | { kind: 'abortInLoop'; rows: number; batchSize: number; after: number }
  | { kind: 'abortByTimer'; rows: number; batchSize: number; afterMs: number }
  | { kind: 'failingQuery'; rows: number; batchSize: number; failAt: number }
  | { kind: 'manualNext'; rows: number; batchSize: number; nexts: number }
  | { kind: 'transaction'; outcome: 'commit' | 'throw' | 'sqlError' | 'swallowedSqlError' }

const rows = fc.integer({ min: 0, max: 400 })
const batchSize = fc.integer({ min: 1, max: 150 })
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('complete' as const), rows, batchSize }),
  fc.record({
    kind: fc.constant('break' as const),
    rows,
    batchSize,
    after: fc.integer({ min: 0, max: 400 }),
  }),
  fc.record({
    kind: fc.constant('throw' as const),
    rows,
    batchSize,
    after: fc.integer({ min: 0, max: 400 }),
  }),
  fc.record({
    kind: fc.constant('abortInLoop' as const),
    rows,
    batchSize,
    after: fc.integer({ min: 0, max: 400 }),
  }),
  fc.record({
    kind: fc.constant('abortByTimer' as const),
    rows: fc.integer({ min: 1, max: 60 }),
    batchSize: fc.integer({ min: 1, max: 20 }),
    afterMs: fc.integer({ min: 0, max: 40 }),
  }),
  fc.record({
    kind: fc.constant('failingQuery' as const),
    rows: fc.integer({ min: 1, max: 400 }),
    batchSize,
    failAt: fc.integer({ min: 1, max: 400 }),
  }),
  fc.record({
    kind: fc.constant('manualNext' as const),
    rows,
    batchSize,
    nexts: fc.integer({ min: 0, max: 5 }),
  }),
  fc.record({
    kind: fc.constant('transaction' as const),
    outcome: fc.constantFrom(
      'commit' as const,
      'throw' as const,
      'sqlError' as const,
      'swallowedSqlError' as const,
    ),
  }),
)

// `inv` divides by zero at row `failAt` (0: never), so a query can fail in the middle of its rows.
const SQL = 'SELECT i, 1 / (i - $2::int) AS inv FROM generate_series(1, $1::int) AS i'
// Each row costs the server 1 ms, so a timer can abort while a batch is being read.
const SLOW_SQL = 'SELECT i, pg_sleep(0.001) FROM generate_series(1, $1::int) AS i'

class Thrown extends Error {}

async function run(pool: pg.Pool, a: Action): Promise<void> {
  switch (a.kind) {
    case 'complete': {
      let n = 0
      for await (const _ of streamQuery(pool, SQL, [a.rows, 0], { batchSize: a.batchSize })) n++
      expect(n).toBe(a.rows)
      return
    }
    case 'break': {
      let n = 0
      for await (const _ of streamQuery(pool, SQL, [a.rows, 0], { batchSize: a.batchSize })) {
        if (n === a.after) break
        n++
      }
      expect(n).toBe(Math.min(a.after, a.rows))
      return
    }
    case 'throw': {
      let n = 0
      const loop = async () => {
        for await (const _ of streamQuery(pool, SQL, [a.rows, 0], { batchSize: a.batchSize })) {
          if (n === a.after) throw new Thrown('from the loop body')
          n++
        }
      }
      if (a.after < a.rows) await expect(loop()).rejects.toBeInstanceOf(Thrown)
      else await loop()
      return
    }
    case 'abortInLoop': {
      const controller = new AbortController()
      let n = 0
      const loop = async () => {
        for await (const _ of streamQuery(pool, SQL, [a.rows, 0], {
          batchSize: a.batchSize,
          signal: controller.signal,
        })) {
          if (n === a.after) controller.abort()
          n++
        }
      }
      if (a.after < a.rows) await expect(loop()).rejects.toMatchObject({ name: 'AbortError' })
      else await loop()
      return
    }
    case 'abortByTimer': {
      const controller = new AbortController()
      const timer = setTimeout(() => controller.abort(), a.afterMs)
      try {
        let n = 0
        for await (const _ of streamQuery(pool, SLOW_SQL, [a.rows], {
          batchSize: a.batchSize,
          signal: controller.signal,
        })) {
          n++
        }
        expect(n).toBe(a.rows)
      } catch (err) {
        expect(err).toMatchObject({ name: 'AbortError' })
      } finally {
        clearTimeout(timer)
      }
      return
    }
    case 'failingQuery': {
      let n = 0
      const loop = async () => {
        for await (const _ of streamQuery(pool, SQL, [a.rows, a.failAt], { batchSize: a.batchSize })) n++
      }
      if (a.failAt <= a.rows) {
        await expect(loop()).rejects.toMatchObject({ code: '22012' })
        expect(n).toBeLessThan(a.failAt)
      } else {
        await loop()
        expect(n).toBe(a.rows)
      }
      return
    }
    case 'manualNext': {
      // Calls next() without waiting, as no for-await loop would, then gives up.
      const iterator = streamQuery(pool, SQL, [a.rows, 0], { batchSize: a.batchSize })[Symbol.asyncIterator]()
      const results = await Promise.all(Array.from({ length: a.nexts }, () => iterator.next()))
      expect(results.filter((r) => !r.done).length).toBe(Math.min(a.nexts, a.rows))
      await iterator.return?.()
      return
    }
    case 'transaction': {
      const tx = withTransaction(pool, async (client) => {
        await client.query('SELECT 1')
        if (a.outcome === 'throw') throw new Thrown('from the transaction')
        if (a.outcome === 'sqlError') await client.query('SELECT 1 / 0')
        if (a.outcome === 'swallowedSqlError') await client.query('SELECT 1 / 0').catch(() => {})
        return 'done'
      })
      if (a.outcome === 'commit') await expect(tx).resolves.toBe('done')
      else if (a.outcome === 'throw') await expect(tx).rejects.toBeInstanceOf(Thrown)
      else if (a.outcome === 'sqlError') await expect(tx).rejects.toMatchObject({ code: '22012' })
      else await expect(tx).rejects.toMatchObject({ code: 'GR_ERR_TRANSACTION_ROLLED_BACK' })
      return
    }
  }
}

describe.skipIf(!databaseUrl)('every way out of a cursor loop or a transaction releases the client', () => {
  let admin: pg.Client
  beforeAll(async () => {
    admin = await adminClient()
  })
  afterAll(async () => {
    await admin?.end()
  })

  it('leaves idleCount === totalCount and no connection active or idle in transaction', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 4 }), async (actions) => {
        // A fresh pool per run, so that a shrunk counterexample is replayed on a clean pool. Smaller than
        // the work, and the actions run concurrently: some of them also wait for a connection.
        const { pool, applicationName } = testPool({ max: 3 }, { acquireTimeoutMs: 10_000 })
        try {
          const outcomes = await Promise.allSettled(actions.map((a) => run(pool, a)))
          for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason
          expect(pool.waitingCount).toBe(0)
          if (actions.some((a) => a.kind === 'abortByTimer')) {
            // An abort while waiting for a connection returns at once; the connection pg-pool was
            // opening or about to hand over goes back to the pool when it arrives, a moment later.
            await until(() => pool.idleCount === pool.totalCount, 2000)
          } else {
            // Every other way out releases the client before the caller sees the outcome.
            expect(pool.idleCount).toBe(pool.totalCount)
          }
          const busy = (await serverStates(admin, applicationName)).filter(
            (s) => s === 'active' || s.startsWith('idle in transaction'),
          )
          expect(busy).toEqual([])
          // And the pool still serves.
          expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
        } finally {
          await pool.end()
        }
      }),
      { numRuns: 150 },
    )
  }, 90_000)
})
