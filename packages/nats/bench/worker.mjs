// The worker against a hand-written consume() loop, same server, same run: with a handler that does no I/O,
// how many messages per second each side handles. Each round pre-publishes N messages into a fresh stream
// and consumer for each side, then times from start until the last one is handled.
//
//   node bench/worker.mjs            (after `npx tsc -b`; NATS_URL defaults to nats://127.0.0.1:4222)
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { Registry } from 'prom-client'
import { compare } from '../../../scripts/bench-compare.mjs'
import { createWorker } from '../dist/index.js'

const N = Number(process.env.BENCH_MESSAGES ?? 20_000)
const MIN = 0.85
const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const nc = await connect({ servers: url.replace(/^nats:\/\//, '') })
const jsm = await jetstreamManager(nc)
const js = jetstream(nc)
const payload = new TextEncoder().encode(
  JSON.stringify({ id: 1, to: 'someone@example.com', template: 'welcome' }),
)
let sink = 0

async function fresh() {
  const stream = `BENCH_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] })
  await jsm.consumers.add(stream, {
    durable_name: 'bench',
    ack_policy: AckPolicy.Explicit,
    ack_wait: 30_000_000_000,
    max_deliver: -1,
  })
  let pending = []
  for (let i = 0; i < N; i++) {
    pending.push(js.publish(`${stream}.job`, payload))
    if (pending.length === 500) {
      await Promise.all(pending)
      pending = []
    }
  }
  await Promise.all(pending)
  return stream
}

/** The baseline: consume() with a callback (the fastest hand-written form), decode, handle, ack. */
async function baseline() {
  const stream = await fresh()
  const consumer = await js.consumers.get(stream, 'bench')
  const start = performance.now()
  let seconds = 0
  await new Promise((resolve) => {
    let n = 0
    let messages
    consumer
      .consume({
        callback: (m) => {
          sink += m.json().id
          m.ack()
          if (++n === N) {
            seconds = (performance.now() - start) / 1000
            void messages.close()
            resolve()
          }
        },
      })
      .then((m) => {
        messages = m
      })
  })
  await jsm.streams.delete(stream)
  return N / seconds
}

function candidate(concurrency) {
  return async () => {
    const stream = await fresh()
    let n = 0
    let seconds = 0
    let done
    const finished = new Promise((resolve) => {
      done = resolve
    })
    const worker = createWorker({
      connection: nc,
      stream,
      consumer: 'bench',
      concurrency,
      ...(process.env.BENCH_PREFETCH ? { prefetch: Number(process.env.BENCH_PREFETCH) } : {}),
      registry: new Registry(),
      handler: async (job) => {
        sink += job.id
        if (++n === N) {
          seconds = (performance.now() - start) / 1000
          done()
        }
      },
    })
    const start = performance.now()
    await worker.start()
    await finished
    await worker.stop({ timeoutMs: 1000 })
    await jsm.streams.delete(stream)
    return N / seconds
  }
}

let failed = false
for (const concurrency of [1, 32]) {
  const r = await compare({
    title: `worker (concurrency ${concurrency}) vs hand-written consume() loop, ${N} messages per round`,
    baseline,
    candidate: candidate(concurrency),
    rounds: Number(process.env.BENCH_ROUNDS ?? 7),
    min: MIN,
    command: 'cd packages/nats && npx tsc -b && node bench/worker.mjs',
  })
  if (!r.pass) failed = true
}
await nc.close()
if (sink < 0) console.log(sink)
process.exit(failed ? 1 : 0)
