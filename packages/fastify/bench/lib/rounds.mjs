// The rounds of a throughput comparison. The two sides take turns in bursts of their own (compare() in
// scripts/bench-compare.mjs alternates which goes first), and each round returns the server's capacity:
// requests answered per second of the server process's own CPU time (user + system, all threads). That is
// the requests/s the server reaches on one core when it is the limit, and it stays meaningful when, on two
// cores, the load generator is the limit instead (autocannon needs about as much CPU per request as a bare
// Fastify hello world).
//
// Each side is several processes of the same variant, used in turn: one process's speed is a draw. Bare
// Fastify against bare Fastify, one process each, gave 0.98, 1.01, 0.77 and 1.21 in four runs of 12 rounds,
// with each run's rounds agreeing among themselves: the difference sits in the process (how its code was
// compiled, where its memory lies), not in the moment. Pairing the processes in rotation spreads that draw
// over the rounds, where the median deals with it.
//
// Tried and dropped: loading both servers at the same moment on the same core. Its rounds agreed within
// ±0.05, but it cannot average over processes either, and repeated runs of ours against bare gave 0.95,
// 0.99, 1.20 and 1.21.
import { burst } from './load.mjs'

/**
 * @param {Array<Array<Awaited<ReturnType<typeof import('./server-process.mjs').startServer>>>>} sides
 *   [baseline processes, candidate processes], the same number of each
 * @param {{ connections: number, durationSeconds: number }} load
 */
export function createRounds(sides, load) {
  const n = sides[0].length
  const stats = sides.map(() => ({ requestsPerSecond: [], cpuMicrosPerRequest: [], busy: [] }))
  const calls = [0, 0]

  /** One burst against the side's next process; records it and returns that process's capacity. */
  const round = (side) => async () => {
    const k = calls[side]++
    // The candidate's index also moves on by one every n rounds, so that all n × n pairs come up.
    const server = sides[side][side === 0 ? k % n : (k + Math.floor(k / n)) % n]
    const before = await server.cpuMicros()
    const start = performance.now()
    const r = await burst(server.url, load)
    const wallMicros = (performance.now() - start) * 1000
    const cpu = (await server.cpuMicros()) - before
    server.answered += r.requests
    const s = stats[side]
    s.requestsPerSecond.push(r.requestsPerSecond)
    s.cpuMicrosPerRequest.push(cpu / r.requests)
    s.busy.push(cpu / wallMicros)
    return (r.requests * 1e6) / cpu
  }

  return { stats, baseline: round(0), candidate: round(1) }
}
