// Shared by the tests: unique streams on the real server (deleted after), polling, metric text, and a
// private nats-server a test may stop.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AckPolicy,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { serviceUrl } from '../../../scripts/test-services.js'

export const natsUrl = await serviceUrl('NATS_URL')

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function server(url: string): string {
  return url.replace(/^nats:\/\//, '')
}

export interface Env {
  nc: NatsConnection
  jsm: JetStreamManager
  js: JetStreamClient
  /** Creates a stream named uniquely (`<prefix>_<random>`) on `<name>.>`, deleted by `close()`. */
  stream(prefix: string, extraSubjects?: string[]): Promise<string>
  /** A durable pull consumer with explicit acks; `config` overrides. */
  consumer(stream: string, name: string, config?: Partial<ConsumerConfig>): Promise<void>
  /** Publishes `count` JSON messages `{ id }` to `<stream>.job` (ids 0..count-1), waiting for each ack. */
  fill(stream: string, count: number, make?: (id: number) => unknown): Promise<void>
  close(): Promise<void>
}

export async function env(url: string): Promise<Env> {
  const nc = await connect({ servers: server(url) })
  const jsm = await jetstreamManager(nc)
  const js = jetstream(nc)
  const streams: string[] = []
  return {
    nc,
    jsm,
    js,
    async stream(prefix, extraSubjects = []) {
      const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
      await jsm.streams.add({ name, subjects: [`${name}.>`, ...extraSubjects] })
      streams.push(name)
      return name
    },
    async consumer(stream, name, config = {}) {
      await jsm.consumers.add(stream, {
        durable_name: name,
        ack_policy: AckPolicy.Explicit,
        max_deliver: -1,
        ...config,
      })
    },
    async fill(stream, count, make = (id) => ({ id })) {
      const encoder = new TextEncoder()
      for (let start = 0; start < count; start += 500) {
        const batch: Promise<unknown>[] = []
        for (let id = start; id < Math.min(count, start + 500); id++) {
          batch.push(js.publish(`${stream}.job`, encoder.encode(JSON.stringify(make(id)))))
        }
        await Promise.all(batch)
      }
    },
    async close() {
      for (const s of streams) await jsm.streams.delete(s).catch(() => undefined)
      await nc.close()
    },
  }
}

/** Polls `condition` every 25 ms until it is truthy; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  condition: () => T | Promise<T>,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = await condition()
    if (value) return value as NonNullable<T>
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

/** The value of the one sample of `name` whose labels include `labels`, from Prometheus text. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found: number[] = []
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) found.push(Number(m[3]))
  }
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return found[0]
}

/** A nats-server of this test's own, on a free port, that the test may stop (never the shared one). */
export interface PrivateServer {
  url: string
  /** Kills the server (SIGKILL: an unreachable server, not a clean shutdown); its store is kept. */
  kill(): Promise<void>
  /** Starts it again on the same port with the same store. */
  restart(): Promise<void>
  /** Kills it and removes its store. */
  stop(): Promise<void>
}

export async function privateServer(): Promise<PrivateServer> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'gr-nats-'))
  const url = `nats://127.0.0.1:${port}`
  let child: ChildProcess | undefined
  const launch = async () => {
    child = spawn('/usr/sbin/nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], {
      stdio: 'ignore',
    })
    await waitFor('the private nats-server to accept connections', async () => {
      try {
        const nc = await connect({ servers: server(url), reconnect: false })
        await nc.close()
        return true
      } catch {
        return false
      }
    })
  }
  const kill = async () => {
    const c = child
    child = undefined
    if (!c || c.exitCode !== null) return
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve())
      c.kill('SIGKILL')
    })
  }
  await launch()
  return {
    url,
    kill,
    restart: launch,
    async stop() {
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}
