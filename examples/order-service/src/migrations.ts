// The order service's schema, as numbered migrations applied at start. Each runs once per schema (recorded
// in schema_migrations), all of them in one transaction under an advisory lock, so two instances starting
// together do not race to create the same table, and a failed start leaves nothing half-made.

import { withTransaction } from '@goreliable/pg'
import type { Pool } from 'pg'
import { MAX_AMOUNT_CENTS, MIN_AMOUNT_CENTS } from './currencies.js'

/** One migration: `sql(schema)` is run as one multi-statement query inside the migration transaction. */
export interface Migration {
  version: number
  name: string
  sql: (schema: string) => string
}

/** The migrations, oldest first. Never edit one that has shipped: add the next. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'orders and outbox',
    sql: (s) => `
      CREATE TABLE IF NOT EXISTS ${s}.orders (
        id uuid PRIMARY KEY,
        amount_cents integer NOT NULL CHECK (amount_cents BETWEEN ${MIN_AMOUNT_CENTS} AND ${MAX_AMOUNT_CENTS}),
        currency char(3) NOT NULL,
        status text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        -- Idempotency keys are the client's, so they are unique per client (the gateway's token subject).
        client_id text NOT NULL DEFAULT '',
        idempotency_key text,
        request_fingerprint text,
        CONSTRAINT orders_idempotency_key UNIQUE (client_id, idempotency_key)
      );
      -- The transactional outbox: a row per event, written in the order's transaction and published to
      -- JetStream by the relay. claimed_until is the relay's lease on a row while it publishes it.
      CREATE TABLE IF NOT EXISTS ${s}.outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES ${s}.orders (id),
        subject text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz,
        claimed_until timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text
      );
      -- The relay only ever looks for unpublished rows: keep that index small.
      CREATE INDEX IF NOT EXISTS outbox_unpublished ON ${s}.outbox (id) WHERE published_at IS NULL;
      CREATE INDEX IF NOT EXISTS outbox_published_at ON ${s}.outbox (published_at) WHERE published_at IS NOT NULL;
    `,
  },
]

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

/** True for a schema name this service accepts: a lowercase PostgreSQL identifier, never quoted. */
export function isSchemaName(name: string): boolean {
  return IDENTIFIER.test(name)
}

/**
 * Creates the schema if needed and applies the migrations it has not seen, in one transaction. Returns the
 * versions applied now (empty when the schema was up to date). Safe to run from several instances at once.
 */
export async function migrate(pool: Pool, schema: string): Promise<number[]> {
  if (!isSchemaName(schema)) throw new TypeError(`not a schema name: ${JSON.stringify(schema)}`)
  return withTransaction(pool, async (client) => {
    // Serializes concurrent starts; released at COMMIT or ROLLBACK.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`order-service migrations ${schema}`])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`)
    const { rows } = await client.query<{ version: number }>(
      `SELECT version FROM ${schema}.schema_migrations`,
    )
    const done = new Set(rows.map((r) => r.version))
    const applied: number[] = []
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue
      await client.query(m.sql(schema))
      await client.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [
        m.version,
        m.name,
      ])
      applied.push(m.version)
    }
    return applied
  })
}
