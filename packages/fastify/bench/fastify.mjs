// `npm run bench` for @goreliable/fastify: the comparisons of issue 3's "Speed" section.
//
// Throughput (overhead, vs-fastify-metrics, logging, fastify-logging): each server variant
// (bench/lib/variants.mjs) runs in processes of its own (bench/servers/hello.mjs) on 127.0.0.1 and answers a
// JSON hello world; autocannon runs in this process, 20 connections, pipelining 1. The two sides take turns
// in 0.5 s bursts, alternating which goes first, because this machine's speed drifts by half within minutes
// and only ratios measured side by side hold; each side is three processes used in rotation, because one
// process's speed is a draw (bench/lib/rounds.mjs). Servers are pinned to CPU 0, this process to CPU 1, all
// at raised priority (bench/lib/placement.mjs). The ratio given the verdict is capacity: requests per
// second of the server's own CPU time, which is what requests/s is when the server is the limit; autocannon's
// requests/s ratio is printed beside it against the same target, with the servers' CPU per request and how
// busy the baseline kept its core.
//
// Scrape: one process holds an app with our plugin and one with fastify-metrics, both after 100 distinct
// routes were hit, and times registry.metrics() (what each /metrics handler awaits) in alternating rounds.
//
// Usage: node bench/fastify.mjs [overhead|vs-fastify-metrics|logging|fastify-logging|scrape|calibration ...]
// (default: all but calibration, an A/A run of bare against bare that shows the noise). Build first:
// `npx tsc -b` in packages/fastify; without dist/index.js a stand-in plugin is measured, and says so.
// Environment: GORELIABLE_BENCH_CONNECTIONS (20), GORELIABLE_BENCH_ROUNDS (40: 20 pairs),
// GORELIABLE_BENCH_BURST_SECONDS (0.5), GORELIABLE_BENCH_PROCESSES (3 a side), GORELIABLE_BENCH_PIN=0 (no
// pinning, no priority), GORELIABLE_BENCH_LOG_DESTINATION (async, the default: pino's kind of stdout
// destination, to /dev/null; sync; buffered), GORELIABLE_BENCH_STANDIN=1 (measure the stand-in plugin).
// Diagnostics: bench/lib/breakdown.mjs (several variants, capacity relative to the first) and
// bench/lib/profile.mjs (a CPU profile of a variant against bare, self time per request by function).
import { spawnSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { compare, median } from '../../../scripts/bench-compare.mjs'
import { burst } from './lib/load.mjs'
import { placement, prefixFor, runPlaced } from './lib/placement.mjs'
import { createRounds } from './lib/rounds.mjs'
import { startServer } from './lib/server-process.mjs'
import { logDestination, usesStandIn } from './lib/variants.mjs'

const CONNECTIONS = Number(process.env.GORELIABLE_BENCH_CONNECTIONS ?? 20)
const ROUNDS = Number(process.env.GORELIABLE_BENCH_ROUNDS ?? 40)
const BURST_SECONDS = Number(process.env.GORELIABLE_BENCH_BURST_SECONDS ?? 0.5)
const WARMUP_SECONDS = 1
const PROCESSES = Number(process.env.GORELIABLE_BENCH_PROCESSES ?? 3)

const command = (name) => `cd packages/fastify && npx tsc -b && node bench/fastify.mjs ${name}`

const throughput = {
  overhead: {
    title: 'ours (metrics, admin, probes, shutdown; no request logging) vs bare Fastify',
    baseline: 'bare',
    candidate: 'ours',
    min: 0.85,
  },
  'vs-fastify-metrics': {
    title: 'ours (same) vs fastify-metrics + @fastify/under-pressure (defaults)',
    baseline: 'fastify-metrics+under-pressure',
    candidate: 'ours',
    min: 1.3,
  },
  logging: {
    title: 'ours with request logging at info (core createLogger to /dev/null) vs bare Fastify',
    baseline: 'bare',
    candidate: 'ours-logging',
    min: 0.65,
  },
  'fastify-logging': {
    title: "reference: Fastify's default request logging (2 lines, same logger) vs bare Fastify",
    baseline: 'bare',
    candidate: 'fastify-logging',
  },
}
// Not run by default: bare Fastify against itself, to see how far from 1 this machine puts an A/A ratio.
const calibration = {
  title: 'calibration: bare Fastify vs bare Fastify (an A/A ratio: its distance from 1 is noise)',
  baseline: 'bare',
  candidate: 'bare',
}
const DEFAULT = [...Object.keys(throughput), 'scrape']
const ALL = [...DEFAULT, 'calibration']

const selected = process.argv.length > 2 ? process.argv.slice(2) : DEFAULT
for (const name of selected) {
  if (!ALL.includes(name)) {
    console.error(`unknown comparison ${name}; one of ${ALL.join(', ')}`)
    process.exit(2)
  }
}

await runPlaced()

console.log(
  `@goreliable/fastify bench: ${usesStandIn ? 'STAND-IN plugin (dist/index.js not built, or GORELIABLE_BENCH_STANDIN=1), not the real one' : 'dist/index.js'}; ` +
    `${CONNECTIONS} connections, pipelining 1, ${BURST_SECONDS} s bursts, ${ROUNDS} rounds, ${logDestination} log destination; ` +
    `${placement.description}; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
)

let failed = false
for (const name of selected) {
  const ok =
    name === 'scrape'
      ? runScrape()
      : await runThroughput(name, name === 'calibration' ? calibration : throughput[name])
  if (!ok) failed = true
}
process.exit(failed ? 1 : 0)

/** One comparison: PROCESSES processes of each variant, the two sides taking turns (bench/lib/rounds.mjs). */
async function runThroughput(name, c) {
  const sides = [[], []]
  try {
    for (let i = 0; i < PROCESSES; i++) {
      for (const [side, variant] of [c.baseline, c.candidate].entries()) {
        const server = await startServer(variant)
        server.answered = 0
        sides[side].push(server)
      }
    }
    const all = sides.flat()
    // dist/ can vanish or appear while a build runs: every server must measure the plugin announced above.
    if (all.some((s) => s.standIn !== usesStandIn)) {
      throw new Error('dist/index.js appeared or vanished during the bench; rerun')
    }
    for (const s of all) {
      s.answered += (
        await burst(s.url, { connections: CONNECTIONS, durationSeconds: WARMUP_SECONDS })
      ).requests
    }
    const rounds = createRounds(sides, { connections: CONNECTIONS, durationSeconds: BURST_SECONDS })
    const { pass } = await compare({
      title: `${name}: ${c.title} (requests per server CPU-second)`,
      baseline: rounds.baseline,
      candidate: rounds.candidate,
      rounds: ROUNDS,
      min: c.min,
      command: command(name),
    })
    // Like for like: a server with metrics must have counted every request it answered.
    for (const s of all) {
      const n = await s.counted()
      if (n !== null && n < s.answered) {
        console.log(
          `  FAIL: ${s.variant} counted ${n} requests in http_request_duration_seconds, answered ${s.answered}`,
        )
        return false
      }
    }
    const [base, cand] = rounds.stats
    const ratios = base.requestsPerSecond.map((b, i) => cand.requestsPerSecond[i] / b)
    const rpsRatio = median(ratios)
    const verdict =
      c.min === undefined ? '' : rpsRatio >= c.min ? `  PASS (>= ${c.min})` : `  FAIL (< ${c.min})`
    const busy = median(base.busy)
    console.log(
      `  autocannon requests/s ratio ${rpsRatio.toFixed(3)}${verdict}: baseline median ` +
        `${Math.round(median(base.requestsPerSecond))}/s, candidate ${Math.round(median(cand.requestsPerSecond))}/s\n` +
        `  per-round capacity ratios: ${base.cpuMicrosPerRequest.map((b, i) => (b / cand.cpuMicrosPerRequest[i]).toFixed(2)).join(' ')}\n` +
        `  server CPU per request: baseline ${median(base.cpuMicrosPerRequest).toFixed(1)} µs, candidate ` +
        `${median(cand.cpuMicrosPerRequest).toFixed(1)} µs; ${PROCESSES} processes a side; the baseline kept ${pct(busy)} of its core busy` +
        (busy < 0.9 ? ' (below 90%: the load generator limited requests/s; capacity still holds)' : ''),
    )
    return pass
  } finally {
    await Promise.all(sides.flat().map((s) => s.close()))
  }
}

/** The scrape comparison runs in a process of its own (pinned like the servers), holding both apps. */
function runScrape() {
  const script = fileURLToPath(new URL('./servers/scrape.mjs', import.meta.url))
  const argv = [process.execPath, script, command('scrape')]
  const [cmd, ...args] = [...prefixFor(placement.serverCpu), ...argv]
  const r = spawnSync(cmd, args, { stdio: 'inherit' })
  return r.status === 0
}

function pct(x) {
  return `${Math.round(x * 100)}%`
}
