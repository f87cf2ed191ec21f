import type { AddressInfo } from 'node:net'
import type {
  Breaker,
  CreateBreakerOptions,
  GoreliableHost,
  Health,
  Profiler,
  PyroscopeOptions,
  Shutdown,
} from '@goreliable/core'
import type { Registry } from 'prom-client'

/** The admin server: metrics, profiles and probes on a port of their own. */
export interface AdminOptions {
  /**
   * Port of the admin server; `0` picks a free one (read it from `app.goreliable.adminAddress()`). Must differ
   * from the main server's port: listening on it fails with `GR_ERR_ADMIN_PORT_CONFLICT`.
   * @default 9464
   */
  port?: number
  /**
   * Address the admin server binds. `'::'` for every IPv4 and IPv6 address.
   * @default '0.0.0.0'
   */
  host?: string
  /**
   * CIDR blocks (`'10.0.0.0/8'`, `'fd00::/8'`) or single addresses allowed to read `/metrics` and
   * `/debug/pprof/*`; everyone else gets 403. IPv4-mapped IPv6 clients (`::ffff:10.1.2.3`) match their IPv4
   * form. The probes are open to every address.
   * @default ['127.0.0.1/32', '::1/128']
   */
  allow?: readonly string[]
}

/** Load shedding: 503 with `Retry-After` before the event loop drowns. At least one limit is required. */
export interface SheddingOptions {
  /**
   * Shed while the mean event-loop delay over the last sample interval is above this many milliseconds.
   * @default undefined (no delay limit)
   */
  maxEventLoopDelayMs?: number
  /**
   * Shed while the event-loop utilization (0 to 1) over the last sample interval is above this.
   * @default undefined (no utilization limit)
   */
  maxEventLoopUtilization?: number
  /**
   * Whole seconds sent as `Retry-After` on a shed request.
   * @default 1
   */
  retryAfterSeconds?: number
  /**
   * How often the event loop is sampled, in ms (an unref'd timer; requests only read the last verdict).
   * @default 500
   */
  sampleIntervalMs?: number
}

/** Graceful shutdown, through @goreliable/core's `createShutdown`. */
export interface GracefulShutdownOptions {
  /**
   * Time between failing readiness and closing the server, in ms: requests keep being served meanwhile, so a
   * load balancer that has not yet seen the endpoint removal does not send traffic to a closed port.
   * @default 5000 when KUBERNETES_SERVICE_HOST is set, else 0
   */
  drainDelayMs?: number
  /**
   * Time `app.close()` and every other closer together may take, in ms; then the process exits with code 1.
   * @default 10000
   */
  timeoutMs?: number
  /**
   * Signals that start the shutdown; a second one forces exit(1). `[]` listens to none.
   * @default ['SIGTERM', 'SIGINT']
   */
  signals?: readonly NodeJS.Signals[]
  /**
   * Called with the exit code when the shutdown has finished. Tests and hosts that own the process pass
   * their own.
   * @default (code) => process.exit(code)
   */
  exit?: (code: number) => void
}

/** Continuous profiling; the on-demand pprof routes work without it. */
export interface ProfilingOptions {
  /**
   * Pushes wall and heap profiles to Pyroscope. `appName` defaults to the plugin's `serviceName`.
   * @default undefined (no continuous profiling)
   */
  pyroscope?: Omit<PyroscopeOptions, 'appName'> & { appName?: string }
  /**
   * Wall sampling interval in µs.
   * @default 10000 (100 Hz)
   */
  samplingIntervalMicros?: number
}

/** A pino level for the request log line. */
export type RequestLogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

/** One log line per request, written at response. */
export interface RequestLoggingOptions {
  /**
   * Level of the line.
   * @default 'info'
   */
  level?: RequestLogLevel
}

/** Options of the @goreliable/fastify plugin. Every key is optional. */
export interface GoreliableOptions {
  /**
   * Name of the service: Pyroscope's application name unless `profiling.pyroscope.appName` is set.
   * @default undefined
   */
  serviceName?: string
  /**
   * Where every metric goes. Never prom-client's global registry unless you pass it.
   * @default a new Registry owned by the plugin
   */
  registry?: Registry
  /**
   * The admin server, or `false` for none (then no `/metrics`, pprof or probe routes are served).
   * @default { port: 9464, host: '0.0.0.0', allow: ['127.0.0.1/32', '::1/128'] }
   */
  admin?: AdminOptions | false
  /**
   * HTTP metrics of the main server (`http_request_duration_seconds`, `http_requests_in_flight`). `false`
   * registers no hook for them; runtime metrics are still exported.
   * @default true
   */
  metrics?: boolean
  /**
   * `Retry-After` seconds on the 503 answering a connection-level failure reaching an upstream.
   * @default 5
   */
  upstreamRetryAfterSeconds?: number
  /**
   * Load shedding, or `false` for none.
   * @default false
   */
  shedding?: SheddingOptions | false
  /**
   * Graceful shutdown on signals, or `false` to listen to no signal (closers can still be added, and
   * `app.goreliable.shutdown.shutdown()` still runs them).
   * @default {} (the defaults of each key)
   */
  shutdown?: GracefulShutdownOptions | false
  /**
   * Continuous profiling.
   * @default undefined
   */
  profiling?: ProfilingOptions
  /**
   * One log line per request through the app's logger, at response: `true` (at info) or `{ level }`. Turn
   * Fastify's own request logging off when you turn this on (a warning says so otherwise).
   * @default false
   */
  requestLogging?: boolean | RequestLoggingOptions
}

/** Per-route options, under `config: { goreliable: { ... } }`. */
export interface GoreliableRouteConfig {
  /**
   * `false`: this route is not counted in the HTTP metrics (a health route of your own, a websocket).
   * @default true
   */
  metrics?: boolean
  /**
   * `false`: this route is never shed by load shedding.
   * @default true
   */
  shedding?: boolean
}

/** Breaker options of `app.goreliable.breaker()`: core's, without `name` and `registry` (the plugin's). */
export type GoreliableBreakerOptions = Omit<CreateBreakerOptions, 'name' | 'registry'>

/** The `app.goreliable` decorator. It is a {@link GoreliableHost}: pass it to @goreliable/pg and nats. */
export interface GoreliableDecorator extends GoreliableHost {
  /** The registry every metric of the app goes to, served on the admin server's `/metrics`. */
  readonly registry: Registry
  /** Readiness, liveness and startup checks, served on `/readyz`, `/livez` and `/startupz`. */
  readonly health: Health
  /** The shutdown coordinator: add closers (pools, connections) here; they run after `app.close()`. */
  readonly shutdown: Shutdown
  /** The process's profiler handle, behind `/debug/pprof/*`. */
  readonly profiler: Profiler
  /**
   * The circuit breaker named `name`, created on the first call with this registry and reused by every later
   * call with the same name (their `action` and `options` are ignored). Breakers stop when the app closes.
   */
  breaker<TI extends unknown[], TR>(
    name: string,
    action: (...args: TI) => Promise<TR>,
    options?: GoreliableBreakerOptions,
  ): Breaker<TI, TR>
  /** Where the admin server listens, once the app is ready; `null` before, after close, or with `admin: false`. */
  adminAddress(): AddressInfo | null
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Added by @goreliable/fastify. */
    goreliable: GoreliableDecorator
  }
  interface FastifyContextConfig {
    /** Per-route options of @goreliable/fastify. */
    goreliable?: GoreliableRouteConfig
  }
}
