import type { GoreliableHost } from '@goreliable/core'
import type { Registry } from 'prom-client'

/** The part of a pino logger this package writes to (pino, and most loggers, fit). */
export interface PgLogger {
  warn(obj: object, msg?: string): void
}

/** What a leak report carries: to `onLeak`, and as the fields of the logger's warning. */
export interface LeakReport {
  /** The pool's `name`. */
  poolName: string
  /** How long the client had been held when the leak was detected, in ms. */
  heldMs: number
  /**
   * The stack of the code that called `pool.connect()` (directly, or through `withClient`,
   * `withTransaction` or `streamQuery`). Undefined for a client that `pool.query()` took itself: there the
   * query is the holder, and `operation` names it.
   */
  stack: string | undefined
  /** The `operation` label of the last query the client ran during this loan, if it ran one. */
  operation: string | undefined
}

/** Options of `createPool` and `instrumentPool`. */
export interface PgPoolOptions {
  /**
   * The pool's name: the `pool_name` label of every metric, and carried by `PoolTimeoutError`. Unique among
   * the open pools of one registry.
   */
  name: string
  /**
   * The prom-client Registry to report into. Required unless `host` is given.
   * @default host.registry
   */
  registry?: Registry
  /**
   * The service this pool runs in (`app.goreliable` of @goreliable/fastify is one). When given, metrics go to
   * its registry (unless `registry` is set), a readiness check named `pg:<name>` is added to its health, and
   * a closer named `pg:<name>` that ends the pool is added to its shutdown.
   * @default undefined
   */
  host?: GoreliableHost
  /**
   * The longest a caller waits for a connection, in ms: queueing for a free one and, when the pool opens a
   * new one for it, connecting. Becomes pg's `connectionTimeoutMillis`. A pool whose config already sets
   * `connectionTimeoutMillis` keeps it when this option is left out; setting both to different values is
   * an error.
   * @default the pool's connectionTimeoutMillis when set, else 5000
   */
  acquireTimeoutMs?: number
  /**
   * A client held longer than this, in ms, is reported once as a leak (logger, metric, `onLeak`). `0` turns
   * leak detection off, and with it the capture of the acquiring stack.
   * @default 30000
   */
  leakDetectionMs?: number
  /**
   * PostgreSQL's `statement_timeout` for every connection the pool opens from now on, in ms: a statement
   * running longer is cancelled by the server (SQLSTATE `57014`). Becomes pg's `statement_timeout`.
   * @default the pool's statement_timeout when set, else none
   */
  statementTimeoutMs?: number
  /**
   * Where leak warnings and connection errors go (pino fits).
   * @default silent
   */
  logger?: PgLogger
  /**
   * Called once per leaked loan. A callback that throws is ignored (and logged).
   * @default undefined
   */
  onLeak?: (report: LeakReport) => void
  /**
   * Whole seconds (at least 1) put on `PoolTimeoutError`; the Fastify plugin sends it as `Retry-After`.
   * @default 1
   */
  retryAfterSeconds?: number
}
