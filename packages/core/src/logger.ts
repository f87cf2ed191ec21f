import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino'
import { InvalidOptionError } from './errors.js'
import {
  optionalObject,
  optionalString,
  rejectUnknownKeys,
  requireObject,
  requireOneOf,
  requireString,
} from './options.js'

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Name of the service, written to every line as `service`. Required. */
  serviceName: string
  /**
   * Lowest level written.
   * @default 'info'
   */
  level?: LevelWithSilent
  /**
   * Version of the service, written to every line as `version`.
   * @default process.env.npm_package_version, else 'unknown'
   */
  version?: string
  /**
   * Where lines go: any object with `write(line: string)` (a pino destination, a stream). Tests use it to
   * capture output.
   * @default pino's own standard-output destination
   */
  destination?: DestinationStream
}

/** The keys {@link createLogger} accepts; the docs test checks each one is documented. */
export const createLoggerOptionKeys = ['serviceName', 'level', 'version', 'destination'] as const

/** What a redacted value is replaced with (pino's own word, so lines look the same as with pino's redact). */
const REDACTED = '[Redacted]'

const LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/**
 * Keys whose values are secrets, matched anywhere in the key and in any case: `password`, `dbPassword`,
 * `client_secret`, `accessToken`, `x-api-key`, `authorization`, `set-cookie`, ...
 */
const SENSITIVE_KEY =
  /passw(?:or)?d|passphrase|secret|token|api[-_]?key|private[-_]?key|authorization|cookie/i

/**
 * Exact paths for pino's own redaction. Top-level keys cost nothing per line (pino keeps one stringifier per
 * top-level key) and also cover child bindings (`log.child({ token })`), which the log formatter never sees.
 * The `req`/`res` header paths catch headers a serializer adds after the formatter has run (Fastify's own
 * request serializer writes no headers; `pino.stdSerializers.req` and `.res` do).
 */
const REDACT_PATHS = [
  'password',
  'passwd',
  'secret',
  'clientSecret',
  'client_secret',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'apiKey',
  'api_key',
  'authorization',
  'cookie',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
]

/**
 * Creates the pino logger every @goreliable service logs through: base fields `service`, `version` and `pid`,
 * and secrets redacted. Pass it to Fastify as `loggerInstance`.
 *
 * Redacted (replaced by `[Redacted]`):
 * - values under keys whose name contains password, passwd, passphrase, secret, token, api key, private key,
 *   authorization or cookie, in any case (`dbPassword`, `client_secret`, `x-api-key`, `Set-Cookie`), at the
 *   top level of a logged object and one and two levels below it, through plain objects, arrays and class
 *   instances without `toJSON`. Numbers, booleans and null stay (`tokenCount: 3` is not a secret);
 * - in child bindings (`log.child({ token })`), which no formatter sees: the exact top-level keys password,
 *   passwd, secret, clientSecret, client_secret, token, accessToken, access_token, refreshToken,
 *   refresh_token, apiKey, api_key, authorization and cookie;
 * - `req.headers.authorization`, `req.headers.cookie`, `req.headers['proxy-authorization']` and
 *   `res.headers['set-cookie']` as a serializer writes them (Fastify's own request serializer writes no
 *   headers; `pino.stdSerializers.req` does).
 * Values under `req`, `res`, `err`, `error`, `request`, `reply` and `response` that are class instances are
 * left to their serializers. Logged objects are never modified: a redacted copy is written instead.
 *
 * The key scan runs in pino's `formatters.log` rather than as pino `redact` wildcard paths (`*.password`,
 * `*.*.password`): pino 10's redactor re-parses every path for every value of every line, and the wildcard
 * paths for these names made Fastify's two request log lines about 20 times slower (measured on this
 * project's machines, 2.9 µs to 65 µs). The scan costs one regular-expression test per key.
 *
 * @example
 * const logger = createLogger({ serviceName: 'orders', level: 'debug' })
 * const app = Fastify({ loggerInstance: logger })
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const o = requireObject('options', options)
  rejectUnknownKeys('', o, createLoggerOptionKeys)
  const service = requireString('serviceName', o.serviceName)
  const level = o.level === undefined ? 'info' : requireOneOf('level', o.level, LEVELS)
  const version = optionalString('version', o.version, defaultVersion())
  const destination = optionalObject('destination', o.destination) as DestinationStream | undefined
  if (destination !== undefined && typeof destination.write !== 'function') {
    throw new InvalidOptionError('destination', 'a stream with a write(line) method', destination)
  }

  return pino(
    {
      level,
      base: { service, version, pid: process.pid },
      redact: { paths: REDACT_PATHS },
      formatters: { log: redactSensitive },
    },
    destination,
  )
}

function defaultVersion(): string {
  // npm sets it for `npm start` and every other script run through npm: the service's own version.
  const fromNpm = process.env.npm_package_version
  return fromNpm !== undefined && fromNpm.length > 0 ? fromNpm : 'unknown'
}

/** Deepest level (0 = the logged object's own keys) whose keys are checked. */
const MAX_DEPTH = 2

/** pino's `formatters.log`: returns the logged object, or a copy with secrets replaced. */
function redactSensitive(obj: Record<string, unknown>): Record<string, unknown> {
  return scrub(obj, 0) as Record<string, unknown>
}

/** Copy-on-write walk: an untouched branch is returned as is, so a line without secrets allocates nothing. */
function scrub(value: object, depth: number): object {
  let copy: Record<string, unknown> | unknown[] | undefined
  const source = value as Record<string, unknown>
  for (const key of Object.keys(source)) {
    const child = source[key]
    let next = child
    if (SENSITIVE_KEY.test(key)) {
      if (isSecretValue(child)) next = REDACTED
    } else if (depth < MAX_DEPTH && isWalkable(child, depth, key)) {
      next = scrub(child, depth + 1)
    }
    if (next !== child) {
      copy ??= Array.isArray(value) ? [...value] : { ...source }
      ;(copy as Record<string, unknown>)[key] = next
    }
  }
  return copy ?? value
}

function isSecretValue(value: unknown): boolean {
  return typeof value === 'string' || (typeof value === 'object' && value !== null)
}

/** Top-level keys that pino's and Fastify's serializers read: their values must reach them untouched. */
const SERIALIZED_KEYS = new Set(['req', 'res', 'err', 'error', 'request', 'reply', 'response'])

/**
 * Plain objects and arrays are walked. So are class instances (an ORM entity with a `password` field), since
 * JSON.stringify writes their own fields and a plain copy prints the same, except where that copy would
 * change the output: an instance with `toJSON` (Date, Buffer) or one a serializer reads (a Fastify request
 * under `req`, whose serializer needs its prototype's getters). Typed arrays are data, not records.
 */
function isWalkable(value: unknown, depth: number, key: string): value is object {
  if (typeof value !== 'object' || value === null) return false
  if (Array.isArray(value)) return true
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) return true
  if (ArrayBuffer.isView(value) || typeof (value as { toJSON?: unknown }).toJSON === 'function') return false
  return !(depth === 0 && SERIALIZED_KEYS.has(key))
}
