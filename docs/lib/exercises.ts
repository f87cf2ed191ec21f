// How the site finds each package's metrics: run its factories once into a private registry and read
// what got registered. A package missing here has metrics the site cannot list, and the site test fails
// for it, so a new package gets its entry here when it lands. Nothing here opens a socket or a timer
// that outlives `cleanup`.
/* biome-ignore-all lint/suspicious/noExplicitAny: the packages are loaded from dist/ at run time */

export interface ExerciseContext {
  /** The package's dist/index.js. */
  mod: any
  /** import() of a specifier, resolved from the package's folder (its own prom-client, generic-pool…). */
  load: (specifier: string) => Promise<any>
  /** The package's prom-client. */
  promClient: any
}

export interface ExerciseResult {
  /** The prom-client Registry the factories registered into. */
  registry: unknown
  /** Metric-name prefixes to show as written in the docs: a name the user picks becomes `<name>`. */
  rename?: Record<string, string>
  cleanup?: () => unknown
}

export type Exercise = (ctx: ExerciseContext) => Promise<ExerciseResult>

export const exercises: Record<string, Exercise> = {
  async core({ mod, load, promClient }) {
    const registry = new promClient.Registry()
    mod.registerRuntimeMetrics(registry)
    mod.registerBuildInfo(registry, '@goreliable/core', '0.0.0')
    const breaker = mod.createBreaker(async () => 1, { name: 'b', registry })
    await breaker.fire()
    const genericPool = (await load('generic-pool')).default
    const pool = mod.instrumentPool(
      genericPool.createPool({ create: async () => ({}), destroy: async () => {} }, { max: 1 }),
      { name: 'p', registry },
    )
    await pool.release(await pool.acquire())
    mod.createHealth({ registry }).addCheck({ name: 'c', kind: 'readiness', check: () => true })
    const gauge = mod.createQueueDepthGauge({
      name: 'docs_user_gauge',
      help: 'h',
      collect: () => 1,
      registry,
    })
    return {
      registry,
      rename: { docs_user_gauge: '<name>' },
      async cleanup() {
        breaker.shutdown()
        gauge.close()
        await pool.drain()
        await pool.clear()
      },
    }
  },

  async fastify({ mod, load }) {
    const Fastify = (await load('fastify')).default
    const app = Fastify({ logger: false })
    // Shedding on, so its counter is registered; no admin server and no signal handlers: nothing listens.
    await app.register(mod.goreliable, {
      serviceName: 'docs',
      admin: false,
      shutdown: { signals: [] },
      shedding: { maxEventLoopUtilization: 0.99 },
    })
    app.get('/x', async () => 'x')
    await app.ready()
    await app.inject({ url: '/x' })
    return { registry: app.goreliable.registry, cleanup: () => app.close() }
  },

  async pg({ mod, promClient }) {
    const registry = new promClient.Registry()
    // pg connects lazily: creating the pool opens no connection.
    const pool = mod.createPool({ host: '127.0.0.1', max: 1 }, { name: 'docs', registry })
    return { registry, cleanup: () => pool.end() }
  },

  async nats({ mod, promClient }) {
    const registry = new promClient.Registry()
    // Stand-ins with the shape the factories check: the metrics are registered without a NATS server.
    const connection = {
      subscribe() {},
      publish() {},
      isClosed: () => false,
      status: async function* () {},
    }
    const worker = mod.createWorker({ connection, stream: 'S', consumer: 'c', handler: () => {}, registry })
    const info = { num_pending: 1, num_ack_pending: 0, num_redelivered: 0 }
    const jsm = { consumers: { info: async () => info } }
    const collector = mod.createQueueDepthCollector({ jsm, stream: 'S', consumer: 'c', registry })
    const js = { publish: async () => ({ stream: 'S', seq: 1, duplicate: false }) }
    await mod.publish(js, 's', 'x', { msgID: '1', registry })
    return {
      registry,
      async cleanup() {
        collector.close()
        await worker.stop({ timeoutMs: 100 })
      },
    }
  },
}
