// A stand-in for the plugin, used only while dist/ is not built (or with GORELIABLE_BENCH_STANDIN=1): a
// minimal hand-written metrics hook recording plain numbers, published at scrape time, plus an admin server
// with /metrics and probes, so the harness can be developed and checked against known figures (the issue
// says such a hook reaches about 0.82 of bare Fastify).
import { createFastHistogram, DURATION_BUCKETS_SECONDS, registerRuntimeMetrics } from '@goreliable/core'
import fp from 'fastify-plugin'
import { Registry } from 'prom-client'

async function standIn(app, opts) {
  const registry = new Registry()
  registerRuntimeMetrics(registry)
  const histogram = createFastHistogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: DURATION_BUCKETS_SECONDS,
    registry,
  })
  const started = Symbol('started')
  app.addHook('onRequest', (req, _reply, done) => {
    req[started] = process.hrtime.bigint()
    done()
  })
  app.addHook('onResponse', (req, reply, done) => {
    const seconds = Number(process.hrtime.bigint() - req[started]) / 1e9
    histogram
      .series(req.method, req.routeOptions.url ?? '__unmatched__', String(reply.statusCode))
      .observe(seconds)
    done()
  })
  const { default: Fastify } = await import('fastify')
  const admin = Fastify()
  admin.get('/metrics', async (_req, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  )
  admin.get('/livez', async () => ({ status: 'ok' }))
  admin.get('/readyz', async () => ({ status: 'ok' }))
  app.addHook('onReady', async () => {
    await admin.listen({ port: opts.admin.port, host: opts.admin.host })
  })
  app.addHook('onClose', async () => admin.close())
  app.decorate('goreliable', { registry, adminAddress: () => admin.server.address() })
}

export default fp(standIn, { name: '@goreliable/fastify', fastify: '5.x' })
