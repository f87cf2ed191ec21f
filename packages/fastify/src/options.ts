import { constants } from 'node:os'
import { InvalidOptionError, type PyroscopeOptions, validate } from '@goreliable/core'
import type { Registry } from 'prom-client'
import { type AddressMatcher, parseAllowList } from './address-matcher.js'
import type { GoreliableOptions, GoreliableRouteConfig, RequestLogLevel } from './types.js'

/** Every key the plugin accepts; any other is rejected at register time. */
export const goreliableOptionKeys = [
  'serviceName',
  'registry',
  'admin',
  'metrics',
  'upstreamRetryAfterSeconds',
  'shedding',
  'shutdown',
  'profiling',
  'requestLogging',
] as const satisfies readonly (keyof GoreliableOptions)[]

/** Keys of `admin`, documented as `admin.<key>`. */
export const adminOptionKeys = ['port', 'host', 'allow'] as const
/** Keys of `shedding`. */
export const sheddingOptionKeys = [
  'maxEventLoopDelayMs',
  'maxEventLoopUtilization',
  'retryAfterSeconds',
  'sampleIntervalMs',
] as const
/** Keys of `shutdown`. */
export const shutdownOptionKeys = ['drainDelayMs', 'timeoutMs', 'signals', 'exit'] as const
/** Keys of `profiling`. */
export const profilingOptionKeys = ['pyroscope', 'samplingIntervalMicros'] as const
/** Keys of `requestLogging` when it is an object. */
export const requestLoggingOptionKeys = ['level'] as const
/** Keys of a route's `config.goreliable`. */
export const routeConfigKeys = [
  'metrics',
  'shedding',
] as const satisfies readonly (keyof GoreliableRouteConfig)[]

const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP'])
const LOG_LEVELS: readonly RequestLogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace']
const MAX_TIMER_MS = 2_147_483_647
const MAX_RETRY_AFTER_SECONDS = 86_400

/** The options with every default applied, resolved once at register time. */
export interface ResolvedOptions {
  serviceName: string | undefined
  registry: Registry | undefined
  admin: { port: number; host: string; allow: readonly string[]; allowed: AddressMatcher } | false
  metrics: boolean
  upstreamRetryAfterSeconds: number
  shedding:
    | {
        maxEventLoopDelayMs: number | undefined
        maxEventLoopUtilization: number | undefined
        retryAfterSeconds: number
        sampleIntervalMs: number
      }
    | false
  shutdown: {
    enabled: boolean
    drainDelayMs: number
    timeoutMs: number
    signals: readonly NodeJS.Signals[]
    exit: ((code: number) => void) | undefined
  }
  profiling: { pyroscope: PyroscopeOptions | undefined; samplingIntervalMicros: number | undefined }
  requestLogging: { level: RequestLogLevel } | false
}

/**
 * Validates the plugin's options and applies the defaults. Throws InvalidOptionError naming the option (as
 * `admin.allow[1]`, `shedding.maxEventLoopDelayMs`, ...), so a bad option fails `register`, never a request.
 */
export function resolveOptions(options: GoreliableOptions | undefined, env = process.env): ResolvedOptions {
  const o = validate.requireObject('options', options ?? {})
  validate.rejectUnknownKeys('', o, goreliableOptionKeys)
  return {
    serviceName: validate.optionalString('serviceName', o.serviceName),
    registry: o.registry === undefined ? undefined : validate.requireRegistry('registry', o.registry),
    admin: resolveAdmin(o.admin),
    metrics: validate.optionalBoolean('metrics', o.metrics, true),
    upstreamRetryAfterSeconds: retryAfter('upstreamRetryAfterSeconds', o.upstreamRetryAfterSeconds, 5),
    shedding: resolveShedding(o.shedding),
    shutdown: resolveShutdown(o.shutdown, env),
    profiling: resolveProfiling(o.profiling, validate.optionalString('serviceName', o.serviceName)),
    requestLogging: resolveRequestLogging(o.requestLogging),
  }
}

function resolveAdmin(value: unknown): ResolvedOptions['admin'] {
  if (value === false) return false
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new InvalidOptionError('admin', 'false or an object { port, host, allow }', value)
  }
  const a = (value ?? {}) as Record<string, unknown>
  validate.rejectUnknownKeys('admin', a, adminOptionKeys)
  const allow = a.allow === undefined ? ['127.0.0.1/32', '::1/128'] : a.allow
  const allowed = parseAllowList('admin.allow', allow)
  return {
    port: validate.optionalNumber('admin.port', a.port, 9464, { min: 0, max: 65535, integer: true }),
    host: validate.optionalString('admin.host', a.host, '0.0.0.0'),
    allow: [...(allow as string[])],
    allowed,
  }
}

function resolveShedding(value: unknown): ResolvedOptions['shedding'] {
  if (value === undefined || value === false) return false
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError('shedding', 'false or an object of limits', value)
  }
  const s = value as Record<string, unknown>
  validate.rejectUnknownKeys('shedding', s, sheddingOptionKeys)
  const maxEventLoopDelayMs = validate.optionalNumber(
    'shedding.maxEventLoopDelayMs',
    s.maxEventLoopDelayMs,
    undefined,
    { min: 1 },
  )
  const maxEventLoopUtilization = validate.optionalNumber(
    'shedding.maxEventLoopUtilization',
    s.maxEventLoopUtilization,
    undefined,
    { min: 0, max: 1 },
  )
  if (maxEventLoopDelayMs === undefined && maxEventLoopUtilization === undefined) {
    throw new InvalidOptionError(
      'shedding',
      'at least one of maxEventLoopDelayMs and maxEventLoopUtilization',
    )
  }
  return {
    maxEventLoopDelayMs,
    maxEventLoopUtilization,
    retryAfterSeconds: retryAfter('shedding.retryAfterSeconds', s.retryAfterSeconds, 1),
    sampleIntervalMs: validate.optionalNumber('shedding.sampleIntervalMs', s.sampleIntervalMs, 500, {
      min: 10,
      max: 60_000,
      integer: true,
    }),
  }
}

function resolveShutdown(value: unknown, env: NodeJS.ProcessEnv): ResolvedOptions['shutdown'] {
  const enabled = value !== false
  if (
    enabled &&
    value !== undefined &&
    (typeof value !== 'object' || value === null || Array.isArray(value))
  ) {
    throw new InvalidOptionError('shutdown', 'false or an object', value)
  }
  const s = (enabled ? (value ?? {}) : {}) as Record<string, unknown>
  validate.rejectUnknownKeys('shutdown', s, shutdownOptionKeys)
  // Inside Kubernetes an endpoint removal takes seconds to reach every load balancer; elsewhere no one needs
  // the wait, and a developer's Ctrl-C should not hang for five seconds.
  const drainDefault = env.KUBERNETES_SERVICE_HOST ? 5000 : 0
  let signals: readonly NodeJS.Signals[] = []
  if (enabled) {
    if (s.signals !== undefined && !Array.isArray(s.signals)) {
      throw new InvalidOptionError('shutdown.signals', 'an array of signal names', s.signals)
    }
    signals = (s.signals as NodeJS.Signals[] | undefined) ?? ['SIGTERM', 'SIGINT']
    for (const [i, signal] of signals.entries()) {
      // Node cannot listen to SIGKILL or SIGSTOP: process.on would throw later, far from the option.
      if (
        typeof signal !== 'string' ||
        !Object.hasOwn(constants.signals, signal) ||
        UNCATCHABLE.has(signal)
      ) {
        throw new InvalidOptionError(
          `shutdown.signals[${i}]`,
          'a signal name Node can listen to, like "SIGTERM"',
          signal,
        )
      }
    }
  }
  return {
    enabled,
    drainDelayMs: validate.optionalNumber('shutdown.drainDelayMs', s.drainDelayMs, drainDefault, {
      max: MAX_TIMER_MS,
    }),
    timeoutMs: validate.optionalNumber('shutdown.timeoutMs', s.timeoutMs, 10_000, {
      min: 1,
      max: MAX_TIMER_MS,
    }),
    signals,
    exit: validate.optionalFunction<(code: number) => void>('shutdown.exit', s.exit),
  }
}

function resolveProfiling(value: unknown, serviceName: string | undefined): ResolvedOptions['profiling'] {
  const p = validate.optionalObject('profiling', value) ?? {}
  validate.rejectUnknownKeys('profiling', p, profilingOptionKeys)
  const samplingIntervalMicros = validate.optionalNumber(
    'profiling.samplingIntervalMicros',
    p.samplingIntervalMicros,
    undefined,
    { min: 100, max: 1_000_000, integer: true },
  )
  const py = validate.optionalObject('profiling.pyroscope', p.pyroscope)
  if (py === undefined) return { pyroscope: undefined, samplingIntervalMicros }
  const appName = py.appName ?? serviceName
  if (appName === undefined) {
    throw new InvalidOptionError('profiling.pyroscope.appName', 'a non-empty string (or set serviceName)')
  }
  // The remaining keys are checked by core's createProfiler, at register time as well.
  return { pyroscope: { ...py, appName } as PyroscopeOptions, samplingIntervalMicros }
}

function resolveRequestLogging(value: unknown): ResolvedOptions['requestLogging'] {
  if (value === undefined || value === false) return false
  if (value === true) return { level: 'info' }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError('requestLogging', 'a boolean or an object { level }', value)
  }
  const r = value as Record<string, unknown>
  validate.rejectUnknownKeys('requestLogging', r, requestLoggingOptionKeys)
  return {
    level:
      r.level === undefined ? 'info' : validate.requireOneOf('requestLogging.level', r.level, LOG_LEVELS),
  }
}

function retryAfter(name: string, value: unknown, fallback: number): number {
  return validate.optionalNumber(name, value, fallback, {
    min: 0,
    max: MAX_RETRY_AFTER_SECONDS,
    integer: true,
  })
}

/**
 * Validates a route's `config.goreliable` when the route is added, so a misspelt key fails at startup
 * instead of silently leaving the route counted or shed.
 */
export function validateRouteConfig(where: string, value: unknown): GoreliableRouteConfig | undefined {
  const c = validate.optionalObject(where, value)
  if (c === undefined) return undefined
  validate.rejectUnknownKeys(where, c, routeConfigKeys)
  validate.optionalBoolean(`${where}.metrics`, c.metrics, true)
  validate.optionalBoolean(`${where}.shedding`, c.shedding, true)
  return c as GoreliableRouteConfig
}

/**
 * Runs a core factory whose options live under `prefix` here, so that its InvalidOptionError names the option
 * as the user wrote it (`profiling.pyroscope.serverAddress`, not `pyroscope.serverAddress`).
 */
export function prefixOptionErrors<T>(prefix: string, create: () => T): T {
  try {
    return create()
  } catch (err) {
    if (!(err instanceof InvalidOptionError)) throw err
    const expected = err.message.replace(/^Invalid option "[^"]*": expected /, '')
    throw new InvalidOptionError(`${prefix}${err.option}`, expected)
  }
}
