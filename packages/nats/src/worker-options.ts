import { type GoreliableHost, InvalidOptionError, validate } from '@goreliable/core'
import type { NatsConnection } from '@nats-io/transport-node'
import type { Registry } from 'prom-client'
import type {
  WorkerBreaker,
  WorkerDecode,
  WorkerHandler,
  WorkerLogger,
  WorkerMessage,
  WorkerOptions,
} from './types.js'

/** Every option `createWorker` accepts; the docs test checks each one is documented. */
export const createWorkerOptionKeys = [
  'connection',
  'stream',
  'consumer',
  'handler',
  'concurrency',
  'prefetch',
  'maxDeliver',
  'backoffMs',
  'deadLetterSubject',
  'breaker',
  'registry',
  'host',
  'logger',
  'decode',
  'stopTimeoutMs',
] as const satisfies readonly (keyof WorkerOptions)[]

export interface ResolvedWorkerOptions<T> {
  connection: NatsConnection
  stream: string
  consumer: string
  handler: WorkerHandler<T>
  concurrency: number
  prefetch: number
  maxDeliver: number
  backoffMs: readonly number[]
  deadLetterSubject: string | undefined
  breaker: WorkerBreaker | undefined
  registry: Registry
  host: GoreliableHost | undefined
  logger: WorkerLogger
  decode: WorkerDecode<T>
  stopTimeoutMs: number
}

const MAX_TIMER_MS = 2 ** 31 - 1
/** Stream and consumer names: no whitespace, dots, wildcards or path separators (nats-server's rule). */
const NAME = /^[^\s.*>/\\]+$/
/** A publishable subject: dot-separated non-empty tokens, no whitespace, no wildcards. */
const SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/

const textDecoder = new TextDecoder()
const decodeJson = (data: Uint8Array, _message: WorkerMessage): unknown =>
  JSON.parse(textDecoder.decode(data))
const silent: WorkerLogger = { info() {}, warn() {}, error() {} }

/** Validates every option once, at creation, and fills in the defaults. */
export function resolveWorkerOptions<T>(options: WorkerOptions<T>): ResolvedWorkerOptions<T> {
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, createWorkerOptionKeys)
  const connection = requireConnection(o.connection)
  const stream = requireName('stream', o.stream)
  const consumer = requireName('consumer', o.consumer)
  const handler = validate.requireFunction<WorkerHandler<T>>('handler', o.handler)
  const concurrency = validate.optionalNumber('concurrency', o.concurrency, 1, {
    min: 1,
    max: 10_000,
    integer: true,
  })
  const prefetch = validate.optionalNumber('prefetch', o.prefetch, 256, {
    min: 0,
    max: 10_000,
    integer: true,
  })
  const maxDeliver = validate.optionalNumber('maxDeliver', o.maxDeliver, 5, { min: 1, integer: true })
  const backoffMs = requireBackoff(o.backoffMs)
  let deadLetterSubject: string | undefined
  if (o.deadLetterSubject !== undefined) {
    if (typeof o.deadLetterSubject !== 'string' || !SUBJECT.test(o.deadLetterSubject)) {
      throw new InvalidOptionError(
        'deadLetterSubject',
        'a subject without wildcards (dot-separated tokens)',
        o.deadLetterSubject,
      )
    }
    deadLetterSubject = o.deadLetterSubject
  }
  const breaker = o.breaker === undefined ? undefined : requireBreaker(o.breaker)
  const host = o.host === undefined ? undefined : requireHost(o.host)
  const registry =
    o.registry !== undefined
      ? validate.requireRegistry('registry', o.registry)
      : host
        ? host.registry
        : (() => {
            throw new InvalidOptionError('registry', 'a prom-client Registry (or a `host` that has one)')
          })()
  const logger = o.logger === undefined ? silent : requireLogger(o.logger)
  const decode =
    validate.optionalFunction<WorkerDecode<T>>('decode', o.decode) ?? (decodeJson as WorkerDecode<T>)
  const stopTimeoutMs = validate.optionalNumber('stopTimeoutMs', o.stopTimeoutMs, 5000, { max: MAX_TIMER_MS })
  return {
    connection,
    stream,
    consumer,
    handler,
    concurrency,
    prefetch,
    maxDeliver,
    backoffMs,
    deadLetterSubject,
    breaker,
    registry,
    host,
    logger,
    decode,
    stopTimeoutMs,
  }
}

export function requireName(option: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new InvalidOptionError(option, 'a stream or consumer name (no whitespace, ".", "*", ">")', value)
  }
  return value
}

export function requireConnection(value: unknown): NatsConnection {
  const c = value as Partial<NatsConnection> | null | undefined
  if (
    typeof c?.subscribe !== 'function' ||
    typeof c.publish !== 'function' ||
    typeof c.isClosed !== 'function' ||
    typeof c.status !== 'function'
  ) {
    throw new InvalidOptionError('connection', 'a NatsConnection from @nats-io/transport-node', value)
  }
  return value as NatsConnection
}

export function requireHost(value: unknown): GoreliableHost {
  const h = value as Partial<GoreliableHost> | null | undefined
  if (
    typeof h?.registry?.registerMetric !== 'function' ||
    typeof h.health?.addCheck !== 'function' ||
    typeof h.shutdown?.addCloser !== 'function'
  ) {
    throw new InvalidOptionError('host', 'a GoreliableHost ({ registry, health, shutdown })', value)
  }
  return value as GoreliableHost
}

function requireBackoff(value: unknown): readonly number[] {
  if (value === undefined) return [1000, 10_000, 60_000]
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidOptionError('backoffMs', 'a non-empty array of delays in ms', value)
  }
  return value.map((v, i) => validate.requireNumber(`backoffMs[${i}]`, v, { max: MAX_TIMER_MS }))
}

function requireBreaker(value: unknown): WorkerBreaker {
  const b = value as Partial<WorkerBreaker> | null
  if (
    typeof b?.on !== 'function' ||
    typeof b.off !== 'function' ||
    typeof b.retryAfterSeconds !== 'function'
  ) {
    throw new InvalidOptionError(
      'breaker',
      'a breaker from createBreaker() (on, off, retryAfterSeconds)',
      value,
    )
  }
  return value as WorkerBreaker
}

function requireLogger(value: unknown): WorkerLogger {
  const l = value as Partial<WorkerLogger> | null
  if (typeof l?.info !== 'function' || typeof l.warn !== 'function' || typeof l.error !== 'function') {
    throw new InvalidOptionError('logger', 'a pino-like logger with info, warn and error', value)
  }
  return value as WorkerLogger
}
