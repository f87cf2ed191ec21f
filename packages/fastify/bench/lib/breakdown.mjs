// Diagnostics, not part of `npm run bench`: several server variants (bench/lib/variants.mjs) take turns in
// 1 s bursts, and each is reported as the median over rounds of its capacity (requests per server
// CPU-second) relative to the first variant measured in the same round.
// Usage: node bench/lib/breakdown.mjs rounds variant1 variant2 ...   e.g. 10 bare empty-hook ours
// (GORELIABLE_BENCH_CONNECTIONS, GORELIABLE_BENCH_PIPELINING to vary the load)
import { median } from '../../../../scripts/bench-compare.mjs'
import { burst } from './load.mjs'
import { runPlaced } from './placement.mjs'
import { startServer } from './server-process.mjs'

await runPlaced()

const rounds = Number(process.argv[2])
const names = process.argv.slice(3)
const connections = Number(process.env.GORELIABLE_BENCH_CONNECTIONS ?? 20)
const pipelining = Number(process.env.GORELIABLE_BENCH_PIPELINING ?? 1)
const seconds = Number(process.env.GORELIABLE_BENCH_BURST_SECONDS ?? 1)
const servers = []
for (const n of names) servers.push(await startServer(n))
console.log(`ours = ${servers.some((s) => s.standIn) ? 'STAND-IN' : 'dist/index.js'}`)
for (const s of servers) await burst(s.url, { connections, durationSeconds: 2 })
const rel = names.map(() => [])
const rps = names.map(() => [])
const rpsRel = names.map(() => [])
const busy = names.map(() => [])
const us = names.map(() => [])
for (let r = 0; r < rounds; r++) {
  const cap = []
  // rotate the order so that no variant always follows the same neighbour
  for (let k = 0; k < servers.length; k++) {
    const i = (k + r) % servers.length
    const s = servers[i]
    const c0 = await s.cpuMicros()
    const x = await burst(s.url, { connections, pipelining, durationSeconds: seconds })
    const cpu = (await s.cpuMicros()) - c0
    cap[i] = x.requests / cpu
    us[i].push(cpu / x.requests)
    rps[i].push(x.requestsPerSecond)
    busy[i].push(cpu / 1e6 / seconds)
  }
  for (let i = 0; i < names.length; i++) {
    rel[i].push(cap[i] / cap[0])
    rpsRel[i].push(rps[i].at(-1) / rps[0].at(-1))
  }
}
for (let i = 0; i < names.length; i++) {
  console.log(
    `${names[i].padEnd(28)} capacity ratio ${median(rel[i]).toFixed(3)}  CPU/request ${median(us[i]).toFixed(1)} µs  ` +
      `requests/s ${Math.round(median(rps[i]))} (ratio ${median(rpsRel[i]).toFixed(3)}), CPU busy ~${Math.round(100 * median(busy[i]))}%  (rounds: ${rel[i].map((x) => x.toFixed(2)).join(' ')})`,
  )
}
await Promise.all(servers.map((s) => s.close()))
