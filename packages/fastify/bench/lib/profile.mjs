// Diagnostics, not part of `npm run bench`: where a variant's extra CPU time per request goes, against bare
// Fastify. Both servers are warmed up, then each is loaded for a while with a V8 CPU profile (100 µs
// sampling) on; self time per request is summed by file and by function, idle left out, and printed for the
// variant, for bare, and as the difference.
// Usage: node bench/lib/profile.mjs variant [seconds] [top]   e.g. node bench/lib/profile.mjs ours 6 40
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { burst } from './load.mjs'
import { runPlaced } from './placement.mjs'
import { startServer } from './server-process.mjs'

await runPlaced()

const [variant, seconds = '6', top = '40'] = process.argv.slice(2)
const connections = Number(process.env.GORELIABLE_BENCH_CONNECTIONS ?? 20)
const results = {}
for (const name of ['bare', variant]) {
  const server = await startServer(name)
  if (server.standIn) console.log('ours = STAND-IN (dist/index.js not built)')
  await burst(server.url, { connections, durationSeconds: 3 })
  await server.startProfile()
  const c0 = await server.cpuMicros()
  const r = await burst(server.url, { connections, durationSeconds: Number(seconds) })
  const cpu = (await server.cpuMicros()) - c0
  const profile = await server.stopProfile()
  await server.close()
  const file = join(tmpdir(), `goreliable-${name}.cpuprofile`)
  writeFileSync(file, JSON.stringify(profile))
  results[name] = { ...summarize(profile, r.requests), cpuPerRequest: cpu / r.requests, file }
  console.log(
    `${name}: ${r.requests} requests, ${(cpu / r.requests).toFixed(1)} µs CPU per request (profiler on); ${file}`,
  )
}

const a = results[variant]
const b = results.bare
for (const [title, key, n] of [
  ['file', 'byFile', 25],
  ['function', 'byFunction', Number(top)],
]) {
  const keys = new Set([...a[key].keys(), ...b[key].keys()])
  const rows = [...keys]
    .map((k) => [k, a[key].get(k) ?? 0, b[key].get(k) ?? 0])
    .sort((x, y) => y[1] - y[2] - (x[1] - x[2]))
  console.log(
    `-- self time per request by ${title}: ${variant}, bare, difference (largest differences first)`,
  )
  for (const [k, x, y] of rows.slice(0, n)) {
    console.log(
      `${x.toFixed(2).padStart(6)} ${y.toFixed(2).padStart(6)} ${(x - y >= 0 ? '+' : '') + (x - y).toFixed(2).padStart(6)} µs  ${k}`,
    )
  }
}
console.log(`sampled busy time per request: ${variant} ${a.busy.toFixed(2)} µs, bare ${b.busy.toFixed(2)} µs`)

/** Self time per request (µs) by function and by file, idle excluded. */
function summarize(p, requests) {
  const nodes = new Map(p.nodes.map((node) => [node.id, node]))
  const selfMicros = new Map()
  for (let i = 0; i < p.samples.length; i++) {
    selfMicros.set(p.samples[i], (selfMicros.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0))
  }
  const byFunction = new Map()
  const byFile = new Map()
  let busy = 0
  for (const [id, t] of selfMicros) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame
    if (functionName === '(idle)') continue
    const perRequest = t / requests
    busy += perRequest
    const file = url
      .replace(/^file:\/\/.*?\/node_modules\//, '')
      .replace(/^file:\/\/.*?\/packages\//, 'packages/')
    const key = `${functionName || '(anonymous)'} ${file}${url ? `:${lineNumber + 1}` : ''}`
    byFunction.set(key, (byFunction.get(key) ?? 0) + perRequest)
    const depth = file.startsWith('@') || file.startsWith('packages/') ? 2 : 1
    const group = url === '' ? `(${functionName})` : file.split('/').slice(0, depth).join('/')
    byFile.set(group, (byFile.get(group) ?? 0) + perRequest)
  }
  return { byFunction, byFile, busy }
}
