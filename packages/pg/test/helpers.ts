// Shared by the pg tests: where the database is, fresh names, the metric text parser, and a second
// connection that watches the pool's connections from the server's side.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { Registry } from 'prom-client'
import { expect } from 'vitest'
import { serviceUrl } from '../../../scripts/test-services.js'
import { createPool } from '../src/index.js'
import type { PgPoolOptions } from '../src/types.js'

/** The database URL, or null (the suite skips, naming DATABASE_URL) outside CI when it is unreachable. */
export const databaseUrl = await serviceUrl('DATABASE_URL')

/** A name no other test run uses: pool names, application_name, table names. */
export function unique(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`
}

export interface TestPool {
  pool: pg.Pool
  registry: Registry
  /** The pool's application_name, which finds its connections in pg_stat_activity. */
  applicationName: string
}

/** An instrumented pool whose connections carry a unique application_name. */
export function testPool(config: pg.PoolConfig = {}, options: Partial<PgPoolOptions> = {}): TestPool {
  const registry = options.registry ?? new Registry()
  const applicationName = unique('gr_pg_test')
  const pool = createPool(
    { connectionString: databaseUrl!, application_name: applicationName, ...config },
    { name: applicationName, registry, ...options },
  )
  return { pool, registry, applicationName }
}

/** A plain client outside any pool under test: it reads pg_stat_activity and terminates backends. */
export async function adminClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl!, application_name: 'gr_pg_test_admin' })
  await client.connect()
  return client
}

/** The server-side state of each connection of one application_name ('active', 'idle', ...). */
export async function serverStates(admin: pg.Client, applicationName: string): Promise<string[]> {
  const { rows } = await admin.query<{ state: string | null }>(
    'SELECT state FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
    [applicationName],
  )
  return rows.map((r) => r.state ?? 'unknown')
}

/** The value of the one sample of `name` whose labels include `labels`, from Prometheus text. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found: number[] = []
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) found.push(Number(m[3]))
  }
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return found[0]
}

/** Polls `condition` (sync or async) every 10 ms for up to `timeoutMs`, then asserts it. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition()) && Date.now() < deadline) await sleep(10)
  expect(await condition()).toBe(true)
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Every item of an async iterable (Array.fromAsync arrived in Node 22). */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of iterable) items.push(item)
  return items
}
