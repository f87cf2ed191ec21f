// `registry.metrics()` for 500 histogram series: createFastHistogram against prom-client's own Histogram,
// same label sets, same buckets, same observations, same run. No threshold: the issue asks for the ratio.
// Also the hot-path side of the same trade: one observe() through a kept series vs prom-client's observe().
// Build first: `npx tsc -b tsconfig.json` in packages/core.
import { performance } from 'node:perf_hooks'
import { Histogram, Registry } from 'prom-client'
import { compare, opsPerSecond } from '../../../scripts/bench-compare.mjs'
import { createFastHistogram, DURATION_BUCKETS_SECONDS } from '../dist/fast-histogram.js'

const COMMAND = 'cd packages/core && npx tsc -b tsconfig.json && node bench/registry.mjs'
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
const ROUTES = Array.from({ length: 100 }, (_, i) => `/api/v1/resource${i}/:id`)
const labelNames = ['http_request_method', 'http_route']
const name = 'http_server_request_duration_seconds'
const help = 'Duration of HTTP server requests.'

const ours = new Registry()
const theirs = new Registry()
const fast = createFastHistogram({
  name,
  help,
  labelNames,
  buckets: DURATION_BUCKETS_SECONDS,
  registry: ours,
})
const reference = new Histogram({
  name,
  help,
  labelNames,
  buckets: [...DURATION_BUCKETS_SECONDS],
  registers: [theirs],
})

// A fixed pseudo-random sequence, so both sides hold identical data on every run.
let seed = 42
const next = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}
for (const method of METHODS) {
  for (const route of ROUTES) {
    const series = fast.series(method, route)
    for (let i = 0; i < 20; i++) {
      const seconds = next() ** 3 * 4 // mostly fast, a long tail past the last bucket
      series.observe(seconds)
      reference.observe({ http_request_method: method, http_route: route }, seconds)
    }
  }
}

// Like for like, or the ratio means nothing: both registries must print the very same text.
const [ourText, theirText] = [await ours.metrics(), await theirs.metrics()]
const seriesCount = (ourText.match(/_count\{/g) ?? []).length
if (ourText !== theirText || seriesCount !== METHODS.length * ROUTES.length) {
  console.error(`registry bench: the two registries do not print the same ${seriesCount} series`)
  process.exit(1)
}

/** Scrapes per second over about `ms` milliseconds (a scrape takes milliseconds, too long for opsPerSecond). */
async function scrapesPerSecond(registry, ms = 400) {
  for (let i = 0; i < 5; i++) await registry.metrics()
  let n = 0
  const start = performance.now()
  let now = start
  while (now - start < ms) {
    await registry.metrics()
    n++
    now = performance.now()
  }
  return (n * 1000) / (now - start)
}

await compare({
  title: `registry: metrics() for ${seriesCount} histogram series, createFastHistogram vs prom-client Histogram (scrapes/s ratio)`,
  baseline: () => scrapesPerSecond(theirs),
  candidate: () => scrapesPerSecond(ours),
  rounds: 9,
  command: COMMAND,
})

const kept = fast.series('GET', ROUTES[7])
const labels = { http_request_method: 'GET', http_route: ROUTES[7] }
let v = 0
const nextValue = () => {
  v = (v + 0.013) % 3
  return v
}
await compare({
  title:
    'registry: one observe(), kept FastHistogram series vs prom-client Histogram with 2 labels (ops/s ratio)',
  baseline: () => opsPerSecond(() => reference.observe(labels, nextValue())),
  candidate: () => opsPerSecond(() => kept.observe(nextValue())),
  rounds: 9,
  command: COMMAND,
})
