import { InvalidOptionError, validate } from '@goreliable/core'
import { defaultAdminAllow } from '@goreliable/example-service-kit'

/** Settings of the `email-provider` breaker (core's `createBreaker` options of the same names). */
export interface NotificationBreakerConfig {
  /**
   * Time the breaker stays open before one trial call (half-open): while the provider is down, one
   * message is tried this often, and nothing else is pulled.
   * @default 10000
   */
  resetTimeoutMs?: number
  /**
   * Failure percentage in the rolling window above which it opens.
   * @default 50
   */
  errorThresholdPercentage?: number
  /**
   * Calls the window must hold before it may open, so one failure alone never pauses the worker.
   * @default 5
   */
  volumeThreshold?: number
  /**
   * Length of the rolling window.
   * @default 10000
   */
  rollingCountTimeoutMs?: number
}

/** Configuration of {@link createNotificationWorker}; `main.ts` builds it from the environment. */
export interface NotificationWorkerConfig {
  /** NATS server URL, or several separated by commas (`NATS_URL`). */
  natsUrl: string
  /** Base URL of the email provider (`EMAIL_PROVIDER_URL`). */
  emailProviderUrl: string
  /**
   * Address the admin server binds (`HOST`).
   * @default '127.0.0.1'
   */
  host?: string
  /**
   * Admin port: `/metrics`, `/livez`, `/readyz`, `/startupz`, `/debug/pprof/*` (`ADMIN_PORT`). `0` picks a
   * free one.
   * @default 9466
   */
  adminPort?: number
  /**
   * Who may read `/metrics` and `/debug/pprof/*` (probes are open to all).
   * @default loopback when `host` is a loopback address, else loopback and the private networks
   */
  adminAllow?: readonly string[]
  /**
   * pino level (`LOG_LEVEL`).
   * @default 'info'
   */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /**
   * Time between failing readiness and stopping the worker (`SHUTDOWN_DRAIN_DELAY_MS`).
   * @default 5000 when KUBERNETES_SERVICE_HOST is set, else 0 (@goreliable/fastify's default)
   */
  drainDelayMs?: number
  /**
   * Time every closer together may take once the drain delay is over; then the process exits with 1.
   * @default 10000
   */
  shutdownTimeoutMs?: number
  /**
   * Pyroscope server for continuous profiling (`PYROSCOPE_URL`).
   * @default none: no profiling
   */
  pyroscopeUrl?: string
  /**
   * The JetStream stream, created at start if missing.
   * @default 'ORDERS'
   */
  stream?: string
  /**
   * The subjects the stream stores when the worker creates it.
   * @default ['orders.>']
   */
  streamSubjects?: readonly string[]
  /**
   * The subject consumed: the consumer's filter.
   * @default 'orders.created'
   */
  subject?: string
  /**
   * The durable pull consumer, created at start if missing; every replica shares it.
   * @default 'notification-worker'
   */
  consumer?: string
  /**
   * Where messages that fail `maxDeliver` times, or are not order events, are published (a stream must
   * store it; the default is stored by `ORDERS`).
   * @default 'orders.dead_letter.notification-worker'
   */
  deadLetterSubject?: string
  /**
   * Notifications sent at once by this replica (prefetch is the same number).
   * @default 16
   */
  concurrency?: number
  /**
   * Failures of one message (provider rejections, not outages) before it is dead-lettered.
   * @default 5
   */
  maxDeliver?: number
  /**
   * Redelivery delays after the first, second, … failure of a message.
   * @default [1000, 10000, 60000]
   */
  backoffMs?: readonly number[]
  /**
   * How long stopping waits for notifications in flight before handing them back.
   * @default 7000
   */
  stopTimeoutMs?: number
  /**
   * A provider call not answered within this time is aborted and counts as a breaker failure.
   * @default 5000
   */
  requestTimeoutMs?: number
  /**
   * The `email-provider` breaker.
   * @default {}
   */
  breaker?: NotificationBreakerConfig
  /**
   * The `to` of every notification (orders carry no address in this example).
   * @default 'customer@example.com'
   */
  recipient?: string
  /**
   * Signals that start the graceful shutdown; `[]` for none (tests call `close()`).
   * @default ['SIGTERM', 'SIGINT']
   */
  signals?: readonly NodeJS.Signals[]
  /**
   * Called with the exit code when the shutdown ends.
   * @default process.exit
   */
  exit?: (code: number) => void
}

/** Every key of {@link NotificationWorkerConfig}; the docs test checks each one is in the README. */
export const createNotificationWorkerOptionKeys = [
  'natsUrl',
  'emailProviderUrl',
  'host',
  'adminPort',
  'adminAllow',
  'logLevel',
  'drainDelayMs',
  'shutdownTimeoutMs',
  'pyroscopeUrl',
  'stream',
  'streamSubjects',
  'subject',
  'consumer',
  'deadLetterSubject',
  'concurrency',
  'maxDeliver',
  'backoffMs',
  'stopTimeoutMs',
  'requestTimeoutMs',
  'breaker',
  'recipient',
  'signals',
  'exit',
] as const satisfies readonly (keyof NotificationWorkerConfig)[]

/** Every key of {@link NotificationBreakerConfig}. */
export const notificationBreakerOptionKeys = [
  'resetTimeoutMs',
  'errorThresholdPercentage',
  'volumeThreshold',
  'rollingCountTimeoutMs',
] as const satisfies readonly (keyof NotificationBreakerConfig)[]

/** The configuration with every default filled in. */
export type ResolvedConfig = Required<
  Omit<NotificationWorkerConfig, 'drainDelayMs' | 'pyroscopeUrl' | 'exit'>
> & {
  drainDelayMs: number | undefined
  pyroscopeUrl: string | undefined
  exit: ((code: number) => void) | undefined
  breaker: Required<NotificationBreakerConfig>
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
const MAX_TIMER_MS = 2 ** 31 - 1
/** Validates every key once, at creation, and fills in the defaults. */
export function resolveConfig(config: NotificationWorkerConfig): ResolvedConfig {
  const c = validate.requireObject('config', config)
  validate.rejectUnknownKeys('', c, createNotificationWorkerOptionKeys)
  const natsUrl = requireUrlList('natsUrl', c.natsUrl)
  const emailProviderUrl = requireHttpUrl('emailProviderUrl', c.emailProviderUrl)
  const host = validate.optionalString('host', c.host, '127.0.0.1')
  const breaker = validate.optionalObject('breaker', c.breaker) ?? {}
  validate.rejectUnknownKeys('breaker', breaker, notificationBreakerOptionKeys)
  const shutdownTimeoutMs = validate.optionalNumber('shutdownTimeoutMs', c.shutdownTimeoutMs, 10_000, {
    min: 1,
    max: MAX_TIMER_MS,
  })
  const stopTimeoutMs = validate.optionalNumber('stopTimeoutMs', c.stopTimeoutMs, 7000, { max: MAX_TIMER_MS })
  if (stopTimeoutMs >= shutdownTimeoutMs) {
    // The worker's stop runs inside the shutdown's time; it must leave room for the NATS drain after it.
    throw new InvalidOptionError(
      'stopTimeoutMs',
      `less than shutdownTimeoutMs (${shutdownTimeoutMs})`,
      stopTimeoutMs,
    )
  }
  const timer = { min: 1, max: MAX_TIMER_MS }
  return {
    natsUrl,
    emailProviderUrl,
    host,
    adminPort: validate.optionalNumber('adminPort', c.adminPort, 9466, { max: 65_535, integer: true }),
    adminAllow: requireStringList('adminAllow', c.adminAllow, defaultAdminAllow(host)),
    logLevel: validate.requireOneOf('logLevel', c.logLevel ?? 'info', LOG_LEVELS),
    drainDelayMs: validate.optionalNumber('drainDelayMs', c.drainDelayMs, undefined, { max: MAX_TIMER_MS }),
    shutdownTimeoutMs,
    pyroscopeUrl: c.pyroscopeUrl === undefined ? undefined : requireHttpUrl('pyroscopeUrl', c.pyroscopeUrl),
    stream: validate.optionalString('stream', c.stream, 'ORDERS'),
    streamSubjects: requireStringList('streamSubjects', c.streamSubjects, ['orders.>']),
    subject: validate.optionalString('subject', c.subject, 'orders.created'),
    consumer: validate.optionalString('consumer', c.consumer, 'notification-worker'),
    deadLetterSubject: validate.optionalString(
      'deadLetterSubject',
      c.deadLetterSubject,
      'orders.dead_letter.notification-worker',
    ),
    concurrency: validate.optionalNumber('concurrency', c.concurrency, 16, {
      min: 1,
      max: 1000,
      integer: true,
    }),
    maxDeliver: validate.optionalNumber('maxDeliver', c.maxDeliver, 5, { min: 1, integer: true }),
    // @goreliable/nats checks each delay; only the shape is checked here.
    backoffMs: (c.backoffMs as readonly number[] | undefined) ?? [1000, 10_000, 60_000],
    stopTimeoutMs,
    requestTimeoutMs: validate.optionalNumber('requestTimeoutMs', c.requestTimeoutMs, 5000, timer),
    breaker: {
      resetTimeoutMs: validate.optionalNumber(
        'breaker.resetTimeoutMs',
        breaker.resetTimeoutMs,
        10_000,
        timer,
      ),
      errorThresholdPercentage: validate.optionalNumber(
        'breaker.errorThresholdPercentage',
        breaker.errorThresholdPercentage,
        50,
        { min: 1, max: 100 },
      ),
      volumeThreshold: validate.optionalNumber('breaker.volumeThreshold', breaker.volumeThreshold, 5, {
        integer: true,
      }),
      rollingCountTimeoutMs: validate.optionalNumber(
        'breaker.rollingCountTimeoutMs',
        breaker.rollingCountTimeoutMs,
        10_000,
        timer,
      ),
    },
    recipient: validate.optionalString('recipient', c.recipient, 'customer@example.com'),
    signals: requireStringList('signals', c.signals, ['SIGTERM', 'SIGINT'], true) as NodeJS.Signals[],
    exit: validate.optionalFunction<(code: number) => void>('exit', c.exit),
  }
}

function requireStringList(name: string, value: unknown, fallback: string[], allowEmpty = false): string[] {
  if (value === undefined) return fallback
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0)) {
    throw new InvalidOptionError(
      name,
      allowEmpty ? 'an array of strings' : 'a non-empty array of strings',
      value,
    )
  }
  return value.map((v, i) => validate.requireString(`${name}[${i}]`, v))
}

function requireHttpUrl(name: string, value: unknown): string {
  const text = validate.requireString(name, value)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new InvalidOptionError(name, 'an http(s) URL', value)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidOptionError(name, 'an http(s) URL', value)
  }
  return text
}

/** NATS URLs: `nats://host:port`, `host:port`, or several of them separated by commas. */
function requireUrlList(name: string, value: unknown): string {
  const text = validate.requireString(name, value)
  const parts = text.split(',').map((s) => s.trim())
  if (parts.some((p) => p === '' || /\s/.test(p))) {
    throw new InvalidOptionError(name, 'one or more NATS URLs separated by commas', value)
  }
  return parts.join(',')
}
