// HTTP requests through the fault proxy in mode `none` against the same requests sent directly, on
// keep-alive connections, interleaved. The proxy sits between a service and its dependency during chaos
// runs, so with no fault it must not become the bottleneck: it must keep at least half the direct
// throughput (one extra loopback hop each way, in JavaScript). Build first: `npx tsc -b tsconfig.json`.
import { once } from 'node:events'
import { createServer } from 'node:http'
import { Pool } from 'undici'
import { compare } from '../../../scripts/bench-compare.mjs'
import { createFaultProxy } from '../dist/index.js'

const server = createServer((_req, res) => res.end('ok'))
server.listen(0, '127.0.0.1')
await once(server, 'listening')
const port = server.address().port
const proxy = await createFaultProxy({ targetHost: '127.0.0.1', targetPort: port })

/** Requests per second from 8 concurrent clients for about 300 ms. */
async function throughput(targetPort) {
  const pool = new Pool(`http://127.0.0.1:${targetPort}`, { connections: 8 })
  const client = async (until) => {
    let n = 0
    while (performance.now() < until) {
      const res = await pool.request({ path: '/', method: 'GET' })
      await res.body.dump()
      n++
    }
    return n
  }
  await Promise.all(Array.from({ length: 8 }, () => client(performance.now() + 50))) // warm the connections
  const start = performance.now()
  const counts = await Promise.all(Array.from({ length: 8 }, () => client(start + 300)))
  const elapsed = performance.now() - start
  await pool.close()
  return (counts.reduce((a, b) => a + b, 0) * 1000) / elapsed
}

const { pass } = await compare({
  title: 'fault proxy: HTTP through the proxy (mode none) vs direct (throughput ratio)',
  baseline: () => throughput(port),
  candidate: () => throughput(proxy.port),
  rounds: 9,
  min: 0.5,
  command: 'cd examples/chaos && npx tsc -b tsconfig.json && node bench/proxy.mjs',
})

await proxy.close()
server.close()
process.exit(pass ? 0 : 1)
