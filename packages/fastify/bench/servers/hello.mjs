// One server of the throughput comparisons, started by bench/lib/server-process.mjs as its own process
// (pinned to CPU 0 when taskset exists): `node bench/servers/hello.mjs <variant>`.
//
// Every variant serves the same JSON hello world on 127.0.0.1 at a free port and differs only in what is
// registered around it. The parent learns the port over IPC and asks for this process's CPU time before and
// after each burst: CPU microseconds per request tell server cost apart from what the load generator could send.
import { usesStandIn, variants } from '../lib/variants.mjs'

const name = process.argv[2]
const build = variants[name]
if (build === undefined) {
  console.error(`unknown variant ${name}; one of ${Object.keys(variants).join(', ')}`)
  process.exit(2)
}

const app = await build()
app.get('/', async () => ({ hello: 'world' }))
await app.listen({ host: '127.0.0.1', port: 0 })

// Diagnostics (bench/lib/profile.mjs): a V8 CPU profile of a window the parent chooses, after start-up.
let session
async function profile(command) {
  const { Session } = await import('node:inspector/promises')
  if (command === 'profile-start') {
    session = new Session()
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 100 })
    await session.post('Profiler.start')
    return null
  }
  const { profile: result } = await session.post('Profiler.stop')
  session.disconnect()
  return result
}

/**
 * How many requests to `/` this server's metrics counted (null without metrics): the parent checks it against
 * what it sent, so a plugin that silently records nothing cannot pass for a fast one.
 */
async function counted() {
  const registry = app.goreliable?.registry ?? app.metrics?.client?.register
  if (registry === undefined) return null
  const text = await registry.metrics()
  let n = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('http_request_duration_seconds_count{') && /route="\/"/.test(line)) {
      n += Number(line.slice(line.lastIndexOf(' ') + 1))
    }
  }
  return n
}

process.on('message', (m) => {
  if (m === 'counted') {
    counted().then((n) => process.send({ type: 'counted', n }))
  } else if (m === 'profile-start' || m === 'profile-stop') {
    profile(m).then((result) => process.send({ type: m, profile: result }))
  } else if (m === 'sample') {
    const cpu = process.cpuUsage()
    process.send({ type: 'sample', cpuMicros: cpu.user + cpu.system })
  } else if (m === 'close') {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
})
process.on('disconnect', () => process.exit(0))
process.send({ type: 'listening', port: app.server.address().port, standIn: usesStandIn })
