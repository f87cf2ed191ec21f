// The outbox and the relay: orders are taken while NATS is unreachable and wait in the outbox; two
// instances relaying one outbox publish every event once; migrations run safely at every start.

import { createServer } from 'node:net'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOrderService, migrate } from '../src/index.js'
import {
  databaseUrl,
  deleteStream,
  dropSchema,
  natsUrl,
  post,
  sample,
  startOrderService,
  streamEvents,
  testPool,
  unique,
  uniqueNames,
} from './helpers.js'

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe.skipIf(!databaseUrl || !natsUrl)('outbox relay', () => {
  let pool: pg.Pool
  const schemas: string[] = []
  const streams: string[] = []

  beforeAll(() => {
    pool = testPool()
  })
  afterAll(async () => {
    for (const s of schemas) await dropSchema(pool, s)
    for (const s of streams) await deleteStream(natsUrl as string, s)
    await pool.end()
  })

  it('takes orders while NATS is unreachable: 201, still ready, and the events wait in the outbox', async () => {
    const names = uniqueNames()
    schemas.push(names.schema)
    const service = await startOrderService(names, { natsUrl: `nats://127.0.0.1:${await closedPort()}` })
    try {
      const ids: unknown[] = []
      for (let i = 0; i < 3; i++) {
        const res = await post(`${service.url}/api/v1/orders`, { amount: 100 + i, currency: 'EUR' })
        expect(res.status).toBe(201)
        ids.push(res.body.id)
      }
      // NATS is not part of readiness on purpose: the outbox exists so that order intake does not need it.
      expect((await fetch(`${service.adminUrl}/readyz`)).status).toBe(200)
      const { rows } = await pool.query(
        `SELECT order_id FROM ${names.schema}.outbox WHERE published_at IS NULL ORDER BY id`,
      )
      expect(rows.map((r) => r.order_id)).toEqual(ids)
      const metrics = await (await fetch(`${service.adminUrl}/metrics`)).text()
      expect(sample(metrics, 'outbox_pending_messages')).toBe(3)
    } finally {
      await service.stop()
    }
    // It stops cleanly although it never reached NATS.
    expect(service.exitCodes).toEqual([0])
  })

  it('publishes every event once when two instances relay the same outbox', async () => {
    const names = uniqueNames()
    schemas.push(names.schema)
    streams.push(names.stream)
    const a = await startOrderService(names, { outboxPollIntervalMs: 20 })
    const b = await startOrderService(names, { outboxPollIntervalMs: 20 })
    try {
      const ids = new Set<string>()
      await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const res = await post(`${(i % 2 ? a : b).url}/api/v1/orders`, {
            amount: 1000 + i,
            currency: 'SEK',
          })
          expect(res.status).toBe(201)
          ids.add(res.body.id as string)
        }),
      )
      await expect
        .poll(async () => (await streamEvents(natsUrl as string, names.stream)).length, { timeout: 15_000 })
        .toBe(40)
      const events = await streamEvents(natsUrl as string, names.stream)
      expect(new Set(events.map((e) => e.msgId))).toEqual(ids)
      expect(events.every((e) => e.data.id === e.msgId)).toBe(true)
      // Nothing was even attempted twice: the claims kept the two relays apart.
      for (const s of [a, b]) {
        const metrics = await (await fetch(`${s.adminUrl}/metrics`)).text()
        expect(
          sample(metrics, 'nats_publish_total', { stream: names.stream, outcome: 'duplicate' }) ?? 0,
        ).toBe(0)
      }
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM ${names.schema}.outbox WHERE published_at IS NULL`,
      )
      expect(rows[0].n).toBe(0)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('releases rows it published but could not mark, with the error, instead of holding them for the lease', async () => {
    const names = uniqueNames()
    schemas.push(names.schema)
    streams.push(names.stream)
    const service = await startOrderService(names, { outboxPollIntervalMs: 50 })
    const s = names.schema
    try {
      // The database refuses the mark-published update, as it would with the pool exhausted.
      await pool.query(`CREATE FUNCTION ${s}.refuse_mark() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.published_at IS NOT NULL THEN RAISE EXCEPTION 'mark refused by the test'; END IF;
          RETURN NEW;
        END $$`)
      await pool.query(
        `CREATE TRIGGER refuse_mark BEFORE UPDATE ON ${s}.outbox FOR EACH ROW EXECUTE FUNCTION ${s}.refuse_mark()`,
      )
      const res = await post(`${service.url}/api/v1/orders`, { amount: 4200, currency: 'EUR' })
      expect(res.status).toBe(201)
      await expect
        .poll(
          async () =>
            (
              await pool.query(
                `SELECT claimed_until, last_error, published_at FROM ${s}.outbox WHERE order_id = $1`,
                [res.body.id],
              )
            ).rows[0],
          { timeout: 10_000 },
        )
        .toMatchObject({ claimed_until: null, published_at: null, last_error: 'mark refused by the test' })
      // Free to be published again at the next round, not after the 30 s lease; the stream keeps one copy.
      await pool.query(`DROP TRIGGER refuse_mark ON ${s}.outbox`)
      await expect
        .poll(
          async () =>
            (await pool.query(`SELECT published_at FROM ${s}.outbox WHERE order_id = $1`, [res.body.id]))
              .rows[0]?.published_at,
          { timeout: 10_000 },
        )
        .not.toBeNull()
      const events = await streamEvents(natsUrl as string, names.stream)
      expect(events.map((e) => e.msgId)).toEqual([res.body.id])
    } finally {
      await service.stop()
    }
  })

  it('runs the migrations once, even when two instances start at the same moment', async () => {
    const schema = unique('os_migrate')
    schemas.push(schema)
    const pools = [0, 1].map(() => new pg.Pool({ connectionString: databaseUrl as string, max: 1 }))
    try {
      const applied = await Promise.all(pools.map((p) => migrate(p, schema)))
      expect(applied.flat()).toEqual([1])
      expect(await migrate(pools[0] as pg.Pool, schema)).toEqual([])
      const { rows } = await pool.query(`SELECT version FROM ${schema}.schema_migrations`)
      expect(rows).toEqual([{ version: 1 }])
    } finally {
      await Promise.all(pools.map((p) => p.end()))
    }
  })

  it('gives up at start when the database never answers, after startupTimeoutMs', async () => {
    const started = Date.now()
    await expect(
      createOrderService({
        databaseUrl: `postgres://postgres@127.0.0.1:${await closedPort()}/test`,
        natsUrl: natsUrl as string,
        startupTimeoutMs: 1500,
        logLevel: 'silent',
        goreliable: { admin: { port: 0 }, shutdown: { signals: [] } },
      }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400)
  })
})
