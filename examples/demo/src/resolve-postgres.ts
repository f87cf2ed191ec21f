// Finds a PostgreSQL for the demo and the chaos suite: DATABASE_URL, else the local server, else an
// embedded PGlite served over the wire protocol, so the services' `pg` code runs unchanged on any of them.

import { InvalidOptionError, validate } from '@goreliable/core'
import pg from 'pg'
import { DemoError, DemoErrorCodes } from './errors.js'
import { canConnect } from './net-probe.js'

/** Where {@link resolvePostgres} looks: `auto` tries `env`, `local`, `pglite` in turn; the others force one. */
export type PostgresMode = 'auto' | 'env' | 'local' | 'pglite'

/** Options of {@link resolvePostgres}. */
export interface ResolvePostgresOptions {
  /** Which source to use; `auto` takes the first that works. @default 'auto' */
  mode?: PostgresMode
  /** The user's server; used as-is (after one `SELECT 1`) when set; `''` ignores the environment. @default process.env.DATABASE_URL */
  databaseUrl?: string
  /** The local server, with a database to connect to while creating `database`. @default 'postgres://postgres@127.0.0.1:5432/postgres' */
  localUrl?: string
  /** The dedicated database created on the local server (letters, digits, `_`). @default 'goreliable_demo' */
  database?: string
  /** Used on the local server when `database` cannot be created. @default 'test' */
  fallbackDatabase?: string
  /** Connections the PGlite socket server accepts; keep it above every pool's max added up. @default 20 */
  pgliteMaxConnections?: number
  /** Port of the PGlite socket server on 127.0.0.1; 0 picks a free one. @default 0 */
  pglitePort?: number
  /** Time allowed to connect to a server before trying the next source. @default 3000 */
  connectTimeoutMs?: number
  /** Receives one line per decision, for the launcher to print. @default no output */
  log?: (line: string) => void
}

/** Every option key of {@link resolvePostgres}. */
export const resolvePostgresOptionKeys = [
  'mode',
  'databaseUrl',
  'localUrl',
  'database',
  'fallbackDatabase',
  'pgliteMaxConnections',
  'pglitePort',
  'connectTimeoutMs',
  'log',
] as const

/** A PostgreSQL the services can use. */
export interface ResolvedPostgres {
  /** Connection string to give the services as `DATABASE_URL`. */
  url: string
  /** Which source it came from. */
  source: 'env' | 'local' | 'pglite'
  /** One line for people: what it is and where. */
  description: string
  /**
   * True for PGlite: every connection shares one backend, so a connection inside a transaction holds up all
   * the others until it commits. Keep pools small (see `recommendedPoolMax`).
   */
  singleBackend: boolean
  /** Pool size to give a service (`DATABASE_POOL_MAX`): 1 on PGlite, 10 on a real server. */
  recommendedPoolMax: number
  /** Stops what was started here (the PGlite server); a no-op for external servers. Safe to call twice. */
  close(): Promise<void>
}

const defaultLocalUrl = 'postgres://postgres@127.0.0.1:5432/postgres'

/**
 * Resolves a PostgreSQL: `DATABASE_URL` when set (it must answer, or this throws
 * `GR_ERR_DEMO_POSTGRES_UNAVAILABLE`), else the local server when it answers (with a dedicated database
 * created once, else `fallbackDatabase`), else an embedded PGlite on 127.0.0.1 (its first start compiles
 * WebAssembly for about ten seconds).
 */
export async function resolvePostgres(options: ResolvePostgresOptions = {}): Promise<ResolvedPostgres> {
  const o = resolveOptions(options)
  if (o.mode === 'env' || (o.mode === 'auto' && o.databaseUrl)) {
    if (!o.databaseUrl) {
      throw new DemoError(DemoErrorCodes.POSTGRES_UNAVAILABLE, 'mode "env" needs DATABASE_URL to be set')
    }
    const problem = await trySelect(o.databaseUrl, o.connectTimeoutMs)
    if (problem) {
      throw new DemoError(
        DemoErrorCodes.POSTGRES_UNAVAILABLE,
        `DATABASE_URL=${redact(o.databaseUrl)} does not answer (${problem}); fix it or unset DATABASE_URL to use a local server or the embedded PGlite`,
      )
    }
    o.log(`PostgreSQL: DATABASE_URL (${redact(o.databaseUrl)})`)
    return external(o.databaseUrl, 'env', `DATABASE_URL ${redact(o.databaseUrl)}`)
  }
  if (o.mode === 'local' || o.mode === 'auto') {
    const local = await useLocal(o)
    if (local) return local
    if (o.mode === 'local') {
      throw new DemoError(
        DemoErrorCodes.POSTGRES_UNAVAILABLE,
        `no PostgreSQL answers at ${redact(o.localUrl)}`,
      )
    }
  }
  return startPglite(o)
}

type Resolved = ReturnType<typeof resolveOptions>

function resolveOptions(options: ResolvePostgresOptions) {
  validate.requireObject('options', options)
  validate.rejectUnknownKeys('', options as Record<string, unknown>, resolvePostgresOptionKeys)
  const database = validate.optionalString('database', options.database, 'goreliable_demo')
  const fallbackDatabase = validate.optionalString('fallbackDatabase', options.fallbackDatabase, 'test')
  for (const [name, value] of [
    ['database', database],
    ['fallbackDatabase', fallbackDatabase],
  ] as const) {
    // The name goes into CREATE DATABASE, which takes no parameters: allow only a plain identifier.
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value)) {
      throw new InvalidOptionError(name, 'a lowercase identifier ([a-z_][a-z0-9_]*)', value)
    }
  }
  return {
    mode: validate.requireOneOf('mode', options.mode ?? 'auto', ['auto', 'env', 'local', 'pglite'] as const),
    // '' counts as unset, as an empty variable does: a caller passes it to ignore the environment.
    databaseUrl: validate.optionalString(
      'databaseUrl',
      (options.databaseUrl ?? process.env.DATABASE_URL) || undefined,
    ),
    localUrl: validate.optionalString('localUrl', options.localUrl, defaultLocalUrl),
    database,
    fallbackDatabase,
    pgliteMaxConnections: validate.optionalNumber('pgliteMaxConnections', options.pgliteMaxConnections, 20, {
      min: 1,
      integer: true,
    }),
    pglitePort: validate.optionalNumber('pglitePort', options.pglitePort, 0, {
      min: 0,
      max: 65535,
      integer: true,
    }),
    connectTimeoutMs: validate.optionalNumber('connectTimeoutMs', options.connectTimeoutMs, 3000, {
      min: 1,
      integer: true,
    }),
    log: validate.optionalFunction<(line: string) => void>('log', options.log) ?? (() => {}),
  }
}

async function useLocal(o: Resolved): Promise<ResolvedPostgres | null> {
  const admin = new URL(o.localUrl)
  const port = Number(admin.port) || 5432
  if (!(await canConnect(admin.hostname || '127.0.0.1', port, o.connectTimeoutMs))) {
    o.log(`PostgreSQL: nothing answers at ${admin.hostname}:${port}`)
    return null
  }
  const client = new pg.Client({ connectionString: o.localUrl, connectionTimeoutMillis: o.connectTimeoutMs })
  try {
    await client.connect()
  } catch (error) {
    o.log(`PostgreSQL: ${redact(o.localUrl)} refused the connection (${messageOf(error)})`)
    await client.end().catch(() => {})
    return null
  }
  try {
    const chosen = await ensureDatabase(client, o)
    const url = withDatabase(o.localUrl, chosen)
    const { rows } = await client.query<{ v: string }>("select current_setting('server_version') as v")
    o.log(`PostgreSQL: local server ${admin.hostname}:${port}, database ${chosen}`)
    return external(
      url,
      'local',
      `local PostgreSQL ${rows[0]?.v ?? ''} at ${admin.hostname}:${port}, database ${chosen}`,
    )
  } finally {
    await client.end().catch(() => {})
  }
}

// A dedicated database keeps the demo's tables out of the `test` database the test suites share; when the
// role may not create one, the fallback (and then the admin database itself) still lets the demo run.
async function ensureDatabase(client: pg.Client, o: Resolved): Promise<string> {
  if (await databaseExists(client, o.database)) return o.database
  try {
    await client.query(`create database ${o.database}`)
    o.log(`PostgreSQL: created database ${o.database}`)
    return o.database
  } catch (error) {
    // 42P04: another launcher created it between the check and the create.
    if ((error as { code?: string }).code === '42P04') return o.database
    o.log(
      `PostgreSQL: cannot create database ${o.database} (${messageOf(error)}); using ${o.fallbackDatabase}`,
    )
  }
  if (await databaseExists(client, o.fallbackDatabase)) return o.fallbackDatabase
  const current = new URL(o.localUrl).pathname.slice(1) || 'postgres'
  o.log(`PostgreSQL: database ${o.fallbackDatabase} does not exist either; using ${current}`)
  return current
}

async function databaseExists(client: pg.Client, name: string): Promise<boolean> {
  const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name])
  return (rowCount ?? 0) > 0
}

async function startPglite(o: Resolved): Promise<ResolvedPostgres> {
  o.log('PostgreSQL: starting the embedded PGlite (the first start takes about ten seconds)')
  // Imported here so that runs with a real server never load the WebAssembly build.
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-socket'),
  ])
  let db: InstanceType<typeof PGlite> | undefined
  let server: InstanceType<typeof PGLiteSocketServer> | undefined
  try {
    db = await PGlite.create()
    server = new PGLiteSocketServer({
      db,
      host: '127.0.0.1',
      port: o.pglitePort,
      maxConnections: o.pgliteMaxConnections,
    })
    await server.start()
  } catch (error) {
    await server?.stop().catch(() => {})
    await db?.close().catch(() => {})
    throw new DemoError(
      DemoErrorCodes.POSTGRES_UNAVAILABLE,
      `the embedded PGlite failed to start: ${messageOf(error)}`,
      {
        cause: error,
      },
    )
  }
  const address = server.getServerConn()
  const url = `postgres://postgres@${address}/postgres`
  o.log(
    `PostgreSQL: embedded PGlite at ${address} (one shared backend, max ${o.pgliteMaxConnections} connections)`,
  )
  let closing: Promise<void> | undefined
  const started = { db, server }
  return {
    url,
    source: 'pglite',
    description: `embedded PGlite at ${address} (in memory; gone when the demo stops)`,
    singleBackend: true,
    recommendedPoolMax: 1,
    close() {
      closing ??= (async () => {
        await started.server.stop().catch(() => {})
        await started.db.close().catch(() => {})
      })()
      return closing
    },
  }
}

function external(url: string, source: 'env' | 'local', description: string): ResolvedPostgres {
  return { url, source, description, singleBackend: false, recommendedPoolMax: 10, close: async () => {} }
}

async function trySelect(url: string, timeoutMs: number): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs })
  try {
    await client.connect()
    await client.query('select 1')
    return null
  } catch (error) {
    return messageOf(error)
  } finally {
    await client.end().catch(() => {})
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

/** The URL without its password, for printing. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparsable URL)'
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message || error.constructor.name : String(error)
}
