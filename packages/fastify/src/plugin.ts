import {
  type Breaker,
  createBreaker,
  createHealth,
  createProfiler,
  createShutdown,
  InvalidOptionError,
  registerBuildInfo,
  registerRuntimeMetrics,
  validate,
} from '@goreliable/core'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { Registry } from 'prom-client'
import { type AdminServer, createAdminServer } from './admin-server.js'
import { fastifyLogsRequests } from './fastify-logs-requests.js'
import { createLoadShedder } from './load-shedding.js'
import { guardMainPort } from './main-port-guard.js'
import { prefixOptionErrors, resolveOptions, validateRouteConfig } from './options.js'
import { createRequestObserver } from './request-observer.js'
import { wrapRouteErrorHandler } from './route-error-handler.js'
import type { GoreliableBreakerOptions, GoreliableDecorator, GoreliableOptions } from './types.js'
import { VERSION } from './version.js'

/** Name of the shutdown closer that closes the Fastify app. */
const APP_CLOSER = '@goreliable/fastify'

const plugin: FastifyPluginAsync<GoreliableOptions> = async (app, options) => {
  const o = resolveOptions(options)

  const registry = o.registry ?? new Registry()
  registerRuntimeMetrics(registry)
  registerBuildInfo(registry, '@goreliable/fastify', VERSION)
  const health = createHealth({ registry })
  // createProfiler checks the pyroscope keys; it runs before anything that would need undoing if it throws.
  const profiler = prefixOptionErrors('profiling.', () =>
    createProfiler({
      ...(o.profiling.pyroscope && { pyroscope: o.profiling.pyroscope }),
      ...(o.profiling.samplingIntervalMicros && {
        samplingIntervalMicros: o.profiling.samplingIntervalMicros,
      }),
      logger: app.log,
    }),
  )
  // Its options were checked by resolveOptions, so this cannot throw after the profiler exists.
  const shutdown = createShutdown({
    health,
    drainDelayMs: o.shutdown.drainDelayMs,
    timeoutMs: o.shutdown.timeoutMs,
    signals: o.shutdown.signals,
    logger: app.log,
    ...(o.shutdown.exit && { exit: o.shutdown.exit }),
  })

  // Closers run last-registered first, and the pools and connections of other packages register theirs
  // after this plugin. Adding the app's closer when the shutdown starts puts it first: app.close() lets
  // in-flight requests finish while their pools are still open, then the pools close.
  shutdown.on('shutdown:start', () => {
    shutdown.addCloser(APP_CLOSER, () => app.close())
  })

  const breakers = new Map<string, Breaker>()
  let adminServer: AdminServer | undefined
  const decorator: GoreliableDecorator = {
    registry,
    health,
    shutdown,
    profiler,
    breaker<TI extends unknown[], TR>(
      name: string,
      action: (...args: TI) => Promise<TR>,
      breakerOptions?: GoreliableBreakerOptions,
    ): Breaker<TI, TR> {
      validate.requireString('name', name)
      const existing = breakers.get(name)
      if (existing !== undefined) return existing as unknown as Breaker<TI, TR>
      const opts = validate.optionalObject('options', breakerOptions) ?? {}
      for (const key of ['name', 'registry']) {
        if (key in opts) throw new InvalidOptionError(`options.${key}`, 'not set: the plugin provides it')
      }
      const created = createBreaker(action, { ...opts, name, registry })
      breakers.set(name, created as unknown as Breaker)
      return created
    },
    adminAddress: () => adminServer?.address() ?? null,
  }
  app.decorate('goreliable', decorator)

  // Per route, at startup: a misspelt `config.goreliable` key fails here, and every route's errors pass
  // through the reliability answers before the app's own error handlers (which keep working as they are).
  app.addHook('onRoute', (route) => {
    validateRouteConfig(`${route.method} ${route.url}: config.goreliable`, route.config?.goreliable)
    route.errorHandler = wrapRouteErrorHandler(route.errorHandler, o.upstreamRetryAfterSeconds)
  })

  // Hot path: one onRequest hook (and a close listener per response) at most, and none when neither metrics
  // nor request logging is on. Added before the shedding hook, so shed requests are recorded too.
  const logLevel = o.requestLogging === false ? undefined : o.requestLogging.level
  let observer: ReturnType<typeof createRequestObserver> | undefined
  if (o.metrics || logLevel !== undefined) {
    observer = createRequestObserver({ registry: o.metrics ? registry : undefined, logLevel })
    app.addHook('onRequest', observer.onRequest)
    if (observer.onError) app.addHook('onError', observer.onError)
  }
  if (logLevel !== undefined && fastifyLogsRequests(app)) {
    app.log.warn(
      "requestLogging is on and so is Fastify's own request logging: each request is logged three times. Create the app with Fastify({ logController: new LogController({ disableRequestLogging: true }) }) (or disableRequestLogging: true before Fastify 5.12).",
    )
  }

  const shedder = o.shedding === false ? undefined : createLoadShedder({ ...o.shedding, registry })
  if (shedder) app.addHook('onRequest', shedder.onRequest)

  let unguard: (() => void) | undefined
  if (o.admin !== false) {
    const admin = o.admin
    if (admin.port !== 0) unguard = guardMainPort(app.server, admin.port)
    const server = createAdminServer({ registry, health, profiler, allowed: admin.allowed, logger: app.log })
    app.addHook('onReady', async () => {
      await server.listen(admin.port, admin.host)
      adminServer = server
    })
  }
  app.addHook('onReady', async () => {
    await profiler.start()
  })

  // Readiness fails from the first moment of a close, whoever started it (a signal or the app itself).
  let reaper: NodeJS.Timeout | undefined
  app.addHook('preClose', (done) => {
    health.markShuttingDown()
    // Node's server.close() closes the keep-alive connections that are idle when it is called, once. A
    // request in flight then leaves its connection idle once answered, and close() would wait for the
    // keep-alive timeout (72 s in Fastify), past any shutdown timeout. So, while closing, idle connections
    // are closed every 100 ms. (New requests on them get Fastify's 503 while it closes anyway.)
    const server = app.server as { closeIdleConnections?: () => void }
    if (typeof server.closeIdleConnections === 'function') {
      reaper = setInterval(() => server.closeIdleConnections?.(), 100).unref()
    }
    done()
  })
  app.addHook('onClose', async () => {
    clearInterval(reaper)
    shedder?.close()
    observer?.close()
    unguard?.()
    // Closing the profiler first ends a capture in progress, which would otherwise hold the admin server
    // open for up to a minute.
    await profiler.close()
    const admin = adminServer
    adminServer = undefined
    await admin?.close()
    for (const breaker of breakers.values()) breaker.shutdown()
    breakers.clear()
    // During a signal's shutdown the listeners stay: a second signal must still force the exit.
    if (!shutdown.isShuttingDown) shutdown.close()
  })
}

/**
 * The @goreliable/fastify plugin: admin server (metrics, pprof, probes), HTTP metrics, reliability errors
 * answered as 503 with `Retry-After`, optional load shedding, graceful shutdown, optional continuous
 * profiling and request logging, and the `app.goreliable` decorator. Wrapped with fastify-plugin, so it
 * applies to the whole app: register it before your routes and other plugins.
 *
 * @example
 * const app = Fastify({ loggerInstance: createLogger({ serviceName: 'orders' }) })
 * await app.register(goreliable, { serviceName: 'orders' })
 */
export const goreliable = fp(plugin, { fastify: '5.x', name: '@goreliable/fastify' })

/** The app type the plugin decorates, for helpers that take an app with `goreliable` on it. */
export type GoreliableFastifyInstance = FastifyInstance & { goreliable: GoreliableDecorator }
