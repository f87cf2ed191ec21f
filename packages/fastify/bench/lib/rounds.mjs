// The rounds of a throughput comparison: the two servers take turns in bursts of their own (compare() in
// scripts/bench-compare.mjs alternates which goes first), and each round returns the server's capacity:
// requests answered per second of the server process's own CPU time (user + system, all threads). That is
// the requests/s the server reaches on one core when it is the limit, and it stays meaningful when, on two
// cores, the load generator is the limit instead (autocannon needs about as much CPU per request as a bare
// Fastify hello world).
//
// Tried and dropped: loading both servers at the same moment on the same core. Its rounds agreed within
// ±0.05, but repeated runs of ours against bare gave 0.95, 0.99, 1.20 and 1.21: two servers competing for one
// core settle into different shares and batch sizes from run to run, so the precision was false.
import { burst } from './load.mjs'

/**
 * @param {Array<Awaited<ReturnType<typeof import('./server-process.mjs').startServer>>>} servers [baseline, candidate]
 * @param {{ connections: number, durationSeconds: number }} load
 */
export function createRounds(servers, load) {
  const stats = servers.map(() => ({
    requests: [],
    requestsPerSecond: [],
    cpuMicrosPerRequest: [],
    busy: [],
  }))

  /** One burst against servers[i]; records it and returns the server's capacity in that burst. */
  const round = (i) => async () => {
    const server = servers[i]
    const before = await server.cpuMicros()
    const start = performance.now()
    const r = await burst(server.url, load)
    const wallMicros = (performance.now() - start) * 1000
    const cpu = (await server.cpuMicros()) - before
    const s = stats[i]
    s.requests.push(r.requests)
    s.requestsPerSecond.push(r.requestsPerSecond)
    s.cpuMicrosPerRequest.push(cpu / r.requests)
    s.busy.push(cpu / wallMicros)
    return (r.requests * 1e6) / cpu
  }

  return { stats, baseline: round(0), candidate: round(1) }
}
