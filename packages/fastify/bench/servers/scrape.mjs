// The scrape comparison, run by bench/fastify.mjs in a process of its own: one app with our plugin and one
// with fastify-metrics (its defaults: a histogram and a summary per route, plus prom-client's default
// metrics) in this same process, each after the same 100 distinct routes were hit. Times what each
// /metrics handler awaits, registry.metrics(), in alternating rounds. No target: the issue asks for the ratio.
import { compare, median } from '../../../../scripts/bench-compare.mjs'
import { usesStandIn, variants } from '../lib/variants.mjs'

const command = process.argv[2] ?? 'node bench/fastify.mjs scrape'
const ROUTES = Array.from({ length: 100 }, (_, i) => `/api/v1/resource${i}/:id`)
const HITS_PER_ROUTE = 5

async function build(variant, registryOf) {
  const app = await variants[variant]()
  for (const route of ROUTES) app.get(route, async (req) => ({ id: req.params.id }))
  await app.ready()
  for (const route of ROUTES) {
    for (let i = 0; i < HITS_PER_ROUTE; i++) {
      const res = await app.inject({ method: 'GET', url: route.replace(':id', String(i)) })
      if (res.statusCode !== 200) throw new Error(`${variant}: GET ${route} answered ${res.statusCode}`)
    }
  }
  const registry = registryOf(app)
  // Like for like, or the ratio means nothing: each side must publish every route it saw.
  const text = await registry.metrics()
  const missing = ROUTES.filter((r) => !text.includes(`"${r}"`))
  if (missing.length > 0)
    throw new Error(`${variant}: /metrics lacks ${missing.length} routes, e.g. ${missing[0]}`)
  return { app, registry, bytes: Buffer.byteLength(text), lines: text.split('\n').length }
}

const ours = await build('ours', (app) => app.goreliable.registry)
const theirs = await build('fastify-metrics+under-pressure', (app) => app.metrics.client.register)

/** Scrapes per second over about `ms` milliseconds; also keeps each scrape's time for the printout. */
function scrapes(side, times) {
  return async (ms = 400) => {
    for (let i = 0; i < 3; i++) await side.registry.metrics()
    let n = 0
    const start = performance.now()
    let now = start
    while (now - start < ms) {
      const t = performance.now()
      await side.registry.metrics()
      now = performance.now()
      times.push(now - t)
      n++
    }
    return (n * 1000) / (now - start)
  }
}

const ourTimes = []
const theirTimes = []
await compare({
  title: `scrape${usesStandIn ? ' (STAND-IN plugin)' : ''}: registry.metrics() after ${ROUTES.length} distinct routes were hit, ours vs fastify-metrics (scrapes/s ratio; above 1 means ours is faster)`,
  baseline: scrapes(theirs, theirTimes),
  candidate: scrapes(ours, ourTimes),
  rounds: 9,
  command,
})
console.log(
  `  time per scrape (median): ours ${median(ourTimes).toFixed(3)} ms for ${ours.lines} lines / ${ours.bytes} bytes, ` +
    `fastify-metrics ${median(theirTimes).toFixed(3)} ms for ${theirs.lines} lines / ${theirs.bytes} bytes`,
)
await Promise.all([ours.app.close(), theirs.app.close()])
process.exit(0)
