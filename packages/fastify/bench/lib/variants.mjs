// The server variants the throughput comparisons run, by name. Each builds a Fastify app (the caller adds the
// hello-world route and listens). Logging, where a variant has any, goes through core's createLogger to
// /dev/null on every side alike: a pipe to the parent would make log cost depend on who reads it.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createLogger } from '@goreliable/core'
import Fastify, { LogController } from 'fastify'
import { pino } from 'pino'

const serviceName = 'bench'
// GORELIABLE_BENCH_LOG_DESTINATION picks the destination; the default is the kind pino uses for stdout
// (asynchronous SonicBoom, minLength 0: a write as soon as none is pending), pointed at /dev/null.
const DESTINATIONS = {
  async: () => pino.destination('/dev/null'),
  sync: () => pino.destination({ dest: '/dev/null', sync: true }),
  buffered: () => pino.destination({ dest: '/dev/null', minLength: 4096 }),
}
export const logDestination = process.env.GORELIABLE_BENCH_LOG_DESTINATION ?? 'async'
const devNull = DESTINATIONS[logDestination]
if (devNull === undefined) {
  throw new Error(`GORELIABLE_BENCH_LOG_DESTINATION must be one of ${Object.keys(DESTINATIONS).join(', ')}`)
}
const logger = () => createLogger({ serviceName, level: 'info', destination: devNull() })

const DIST = new URL('../../dist/index.js', import.meta.url)

/** Which plugin `ours` measures: the built one, or the stand-in while dist/ is not built (or when forced). */
export const usesStandIn = process.env.GORELIABLE_BENCH_STANDIN === '1' || !existsSync(fileURLToPath(DIST))

async function loadOurs() {
  const mod = usesStandIn ? await import('./stand-in.mjs') : await import(DIST.href)
  return mod.default
}

// The admin server binds loopback on a free port: the bench must not collide with anything on 9464.
const admin = { port: 0, host: '127.0.0.1' }

/** @type {Record<string, () => Promise<import('fastify').FastifyInstance>>} */
export const variants = {
  // Fastify with nothing registered and no logger: the baseline of every comparison.
  bare: async () => Fastify(),

  // Fastify's own request logging (two lines per request, through a child logger), for reference.
  'fastify-logging': async () => Fastify({ loggerInstance: logger() }),

  // Ours with metrics, admin server, probes and shutdown on (all defaults), request logging off.
  ours: async () => {
    const goreliable = await loadOurs()
    const app = Fastify()
    await app.register(goreliable, { serviceName, admin, requestLogging: false })
    return app
  },

  // Ours with its request logging at info; Fastify's own request lines are turned off (Fastify 5.12's
  // LogController, which replaces the deprecated disableRequestLogging) so the one line per request is ours.
  'ours-logging': async () => {
    const goreliable = await loadOurs()
    const app = Fastify({
      loggerInstance: logger(),
      logController: new LogController({ disableRequestLogging: true }),
    })
    await app.register(goreliable, { serviceName, admin, requestLogging: true })
    return app
  },

  // What a user registers today for metrics and overload protection: fastify-metrics and
  // @fastify/under-pressure, both with their defaults.
  'fastify-metrics+under-pressure': async () => {
    const { default: metrics } = await import('fastify-metrics')
    const { default: underPressure } = await import('@fastify/under-pressure')
    const app = Fastify()
    await app.register(metrics, { endpoint: '/metrics' })
    await app.register(underPressure)
    return app
  },

  // Pieces of `ours`, for `node bench/lib/breakdown.mjs` (not run by `npm run bench`): where the cost goes.
  'empty-hook': async () => {
    const app = Fastify()
    app.addHook('onResponse', (_req, _reply, done) => done())
    return app
  },
  'ours-no-metrics': async () => {
    const goreliable = await loadOurs()
    const app = Fastify()
    await app.register(goreliable, { serviceName, admin, requestLogging: false, metrics: false })
    return app
  },
  'ours-no-admin-no-shutdown': async () => {
    const goreliable = await loadOurs()
    const app = Fastify()
    await app.register(goreliable, { serviceName, admin: false, requestLogging: false, shutdown: false })
    return app
  },
  // Ours with request logging, the destination fixed rather than taken from the environment: to compare
  // destinations side by side (`node bench/lib/breakdown.mjs 10 bare ours-logging-sync ours-logging-async`).
  ...Object.fromEntries(
    Object.entries(DESTINATIONS).map(([name, destination]) => [
      `ours-logging-${name}`,
      async () => {
        const goreliable = await loadOurs()
        const app = Fastify({
          loggerInstance: createLogger({ serviceName, level: 'info', destination: destination() }),
          logController: new LogController({ disableRequestLogging: true }),
        })
        await app.register(goreliable, { serviceName, admin, requestLogging: true })
        return app
      },
    ]),
  ),
  // Fastify with a logger but no request lines: what having a logger costs (a child logger per request).
  'logger-no-lines': async () =>
    Fastify({ loggerInstance: logger(), logController: new LogController({ disableRequestLogging: true }) }),
  // Ours with that logger and its request logging off: subtracted from ours-logging, the cost of our line.
  'ours-logger-no-lines': async () => {
    const goreliable = await loadOurs()
    const app = Fastify({
      loggerInstance: logger(),
      logController: new LogController({ disableRequestLogging: true }),
    })
    await app.register(goreliable, { serviceName, admin, requestLogging: false })
    return app
  },
}
