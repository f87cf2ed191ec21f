// The experiments' own view of the order service's database: a direct connection (never through the fault
// proxy, so a partition of the service does not blind the checks) to the schema of this run.

import pg from 'pg'

/** An order row as the invariants read it. */
export interface OrderRow {
  id: string
  idempotencyKey: string
}

/** The unpublished outbox rows, described. */
export interface OutboxBacklog {
  pending: number
  /** Rows whose `claimed_until` lies ahead: a relay holds them (or held them when it stopped). */
  claimed: number
  maxAttempts: number
  /** Distinct `last_error` values, at most three. */
  lastErrors: string[]
}

/** Read access to the run's schema, and its removal at the end. */
export interface StackDatabase {
  readonly schema: string
  /** The orders created with any of these idempotency keys (by the gateway's client). */
  ordersByKeys(keys: readonly string[]): Promise<OrderRow[]>
  /** Every order of the run. */
  allOrders(): Promise<OrderRow[]>
  /** Outbox rows not yet marked published (events the relay still has to send, or to confirm). */
  pendingOutbox(): Promise<number>
  /** Why rows are unpublished: how many are under a relay's claim, their most attempts, their last errors. */
  outboxBacklog(): Promise<OutboxBacklog>
  /** Drops the schema with everything in it. */
  dropSchema(): Promise<void>
  close(): Promise<void>
}

/** Connects to `databaseUrl` for the tables in `schema` (a lowercase identifier, checked by the caller). */
export function createStackDatabase(databaseUrl: string, schema: string): StackDatabase {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`not a schema name: ${schema}`)
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 2,
    connectionTimeoutMillis: 5000,
    application_name: 'goreliable-chaos',
  })
  pool.on('error', () => {})
  const toRows = (rows: { id: string; idempotency_key: string }[]) =>
    rows.map((r) => ({ id: r.id, idempotencyKey: r.idempotency_key }))
  let closing: Promise<void> | undefined
  return {
    schema,
    async ordersByKeys(keys) {
      if (keys.length === 0) return []
      const { rows } = await pool.query(
        `select id, idempotency_key from ${schema}.orders where idempotency_key = any($1::text[])`,
        [keys],
      )
      return toRows(rows)
    },
    async allOrders() {
      const exists = await pool.query('select 1 from pg_tables where schemaname = $1 and tablename = $2', [
        schema,
        'orders',
      ])
      if (!exists.rowCount) return []
      const { rows } = await pool.query(`select id, idempotency_key from ${schema}.orders`)
      return toRows(rows)
    },
    async pendingOutbox() {
      const { rows } = await pool.query<{ n: string }>(
        `select count(*) as n from ${schema}.outbox where published_at is null`,
      )
      return Number(rows[0]?.n ?? 0)
    },
    async outboxBacklog() {
      const { rows } = await pool.query<{ pending: string; claimed: string; max_attempts: number | null }>(
        `select count(*) as pending, count(*) filter (where claimed_until > now()) as claimed,
                max(attempts) as max_attempts
           from ${schema}.outbox where published_at is null`,
      )
      const errors = await pool.query<{ last_error: string }>(
        `select distinct last_error from ${schema}.outbox
          where published_at is null and last_error is not null limit 3`,
      )
      return {
        pending: Number(rows[0]?.pending ?? 0),
        claimed: Number(rows[0]?.claimed ?? 0),
        maxAttempts: rows[0]?.max_attempts ?? 0,
        lastErrors: errors.rows.map((r) => r.last_error),
      }
    },
    async dropSchema() {
      await pool.query(`drop schema if exists ${schema} cascade`)
    },
    close() {
      closing ??= pool.end().catch(() => {})
      return closing
    },
  }
}
