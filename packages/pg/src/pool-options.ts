import { type GoreliableHost, InvalidOptionError, validate } from '@goreliable/core'
import type { Pool } from 'pg'
import type { Registry } from 'prom-client'
import type { LeakReport, PgLogger } from './types.js'

/** Every option `createPool` and `instrumentPool` accept; the docs test checks each one is documented. */
export const instrumentPoolOptionKeys = [
  'name',
  'registry',
  'host',
  'acquireTimeoutMs',
  'leakDetectionMs',
  'statementTimeoutMs',
  'logger',
  'onLeak',
  'retryAfterSeconds',
] as const

/** setTimeout fires at once for delays above 2^31 - 1 ms, so a longer timeout would mean "no wait at all". */
const MAX_TIMER_MS = 2_147_483_647

/** The options of one pool, validated and with every default applied. */
export interface ResolvedPoolOptions {
  readonly name: string
  readonly registry: Registry
  readonly host: GoreliableHost | undefined
  readonly acquireTimeoutMs: number
  readonly leakDetectionMs: number
  readonly statementTimeoutMs: number | undefined
  readonly logger: PgLogger | undefined
  readonly onLeak: ((report: LeakReport) => void) | undefined
  readonly retryAfterSeconds: number
}

/**
 * Validates the options once, at creation, and resolves them against the pool's own config: pg reads
 * `connectionTimeoutMillis` and `statement_timeout` from `pool.options`, so a value the user already put
 * there is kept rather than silently overwritten, and a contradiction is an error.
 */
export function resolvePoolOptions(pool: Pool, options: unknown): ResolvedPoolOptions {
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, instrumentPoolOptionKeys)
  const name = validate.requireString('name', o.name)
  const host = o.host === undefined ? undefined : requireHost(o.host)
  if (o.registry === undefined && host === undefined) {
    throw new InvalidOptionError('registry', 'a prom-client Registry (or a host that has one)')
  }
  const registry = validate.requireRegistry('registry', o.registry ?? host?.registry)

  const configured = pool.options as { connectionTimeoutMillis?: unknown; statement_timeout?: unknown }
  const acquireTimeoutMs = fromConfig(
    'acquireTimeoutMs',
    o.acquireTimeoutMs,
    'connectionTimeoutMillis',
    configured.connectionTimeoutMillis,
    { min: 1, max: MAX_TIMER_MS, integer: true },
  )
  const statementTimeoutMs = fromConfig(
    'statementTimeoutMs',
    o.statementTimeoutMs,
    'statement_timeout',
    configured.statement_timeout,
    { min: 1, max: MAX_TIMER_MS, integer: true },
  )
  return {
    name,
    registry,
    host,
    // pg treats connectionTimeoutMillis 0 (its default) as "wait forever"; here the wait is always bounded.
    acquireTimeoutMs: acquireTimeoutMs ?? 5000,
    leakDetectionMs: validate.optionalNumber('leakDetectionMs', o.leakDetectionMs, 30_000, {
      max: MAX_TIMER_MS,
      integer: true,
    }),
    statementTimeoutMs,
    logger: optionalLogger(o.logger),
    onLeak: validate.optionalFunction<(report: LeakReport) => void>('onLeak', o.onLeak),
    retryAfterSeconds: validate.optionalNumber('retryAfterSeconds', o.retryAfterSeconds, 1, {
      min: 1,
      integer: true,
    }),
  }
}

/**
 * The option's value, else the pool config's (0 and unset both mean "none" to pg), refusing two different
 * values: whichever one won silently, the user would be surprised by the other.
 */
function fromConfig(
  option: string,
  value: unknown,
  configKey: string,
  configValue: unknown,
  bounds: validate.NumberBounds,
): number | undefined {
  const fromOption = validate.optionalNumber(option, value, undefined, bounds)
  const inConfig = typeof configValue === 'number' && configValue > 0 ? configValue : undefined
  if (fromOption !== undefined && inConfig !== undefined && fromOption !== inConfig) {
    throw new InvalidOptionError(
      option,
      `the pool config's ${configKey} (${inConfig}), or no ${option}: the two disagree`,
      fromOption,
    )
  }
  return fromOption ?? inConfig
}

function requireHost(value: unknown): GoreliableHost {
  const h = value as Partial<GoreliableHost> | null
  const ok =
    typeof h === 'object' &&
    h !== null &&
    typeof h.health?.addCheck === 'function' &&
    typeof h.shutdown?.addCloser === 'function'
  if (!ok) throw new InvalidOptionError('host', 'a GoreliableHost ({ registry, health, shutdown })', value)
  return value as GoreliableHost
}

function optionalLogger(value: unknown): PgLogger | undefined {
  if (value === undefined) return undefined
  if (typeof (value as Partial<PgLogger> | null)?.warn !== 'function') {
    throw new InvalidOptionError('logger', 'a pino-like logger with warn(obj, msg)', value)
  }
  return value as PgLogger
}
