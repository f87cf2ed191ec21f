// Shared by the tests: unique JetStream names on the real server (deleted after), the real fake email
// provider in-process, publishing orders, polling, and reading the admin server.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEmailProvider, type FaultPatch, type MessageList } from '@goreliable/example-email-provider'
import { publish } from '@goreliable/nats'
import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { serviceUrl } from '../../../scripts/test-services.js'
import {
  createNotificationWorker,
  type NotificationWorker,
  type NotificationWorkerConfig,
} from '../src/index.js'

export const natsUrl = await serviceUrl('NATS_URL')

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** What a truthy result of a condition can be. */
type Truthy<T> = Exclude<T, undefined | null | false | 0 | ''>

/** Polls `condition` every 50 ms until it is truthy; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  condition: () => T | Promise<T>,
  timeoutMs = 15_000,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await condition()
      if (value) return value as Truthy<T>
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`,
      )
    }
    await sleep(50)
  }
}

/** Stream, subjects and consumer unique to one test, so tests never meet each other's messages. */
export function uniqueNames() {
  const id = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const prefix = `nwtest_${id}`
  return {
    stream: `NWTEST_${id}`,
    streamSubjects: [`${prefix}.>`],
    subject: `${prefix}.created`,
    consumer: `notify_${id}`,
    deadLetterSubject: `${prefix}.dead_letter`,
  }
}
export type Names = ReturnType<typeof uniqueNames>

/** The fake email provider on 127.0.0.1 and a free port. */
export async function startProvider() {
  const app = createEmailProvider()
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('provider has no port')
  const url = `http://127.0.0.1:${address.port}`
  return {
    url,
    async messages(): Promise<MessageList> {
      const res = await fetch(`${url}/v1/messages`)
      return (await res.json()) as MessageList
    },
    async faults(patch: FaultPatch | 'heal'): Promise<void> {
      const res =
        patch === 'heal'
          ? await fetch(`${url}/control`, { method: 'DELETE' })
          : await fetch(`${url}/control`, {
              method: 'PUT',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(patch),
            })
      if (!res.ok) throw new Error(`control answered ${res.status}: ${await res.text()}`)
    },
    close: () => app.close(),
  }
}
export type Provider = Awaited<ReturnType<typeof startProvider>>

/** A worker on `names`, silent, admin on a free loopback port, no signal handlers, no process.exit. */
export function makeWorker(
  provider: Provider,
  names: Names,
  overrides: Partial<NotificationWorkerConfig> = {},
): NotificationWorker {
  return createNotificationWorker({
    natsUrl: natsUrl!,
    emailProviderUrl: provider.url,
    adminPort: 0,
    logLevel: (process.env.TEST_LOG_LEVEL as NotificationWorkerConfig['logLevel']) ?? 'silent',
    signals: [],
    exit: () => {},
    drainDelayMs: 0,
    ...names,
    ...overrides,
  })
}

/** A NATS connection for the test itself: publishing orders and reading the stream. */
export async function natsClient(url: string) {
  const nc: NatsConnection = await connect({ servers: url })
  const jsm: JetStreamManager = await jetstreamManager(nc)
  const js = jetstream(nc)
  const streams = new Set<string>()
  return {
    nc,
    jsm,
    /** Deletes `stream` when the client closes. */
    own(stream: string) {
      streams.add(stream)
    },
    /** Publishes orders as the order service does: JSON, `Nats-Msg-Id` = order id. Returns the ids. */
    async publishOrders(subject: string, count: number, prefix = 'ord'): Promise<string[]> {
      const run = Math.random().toString(36).slice(2, 8)
      const ids = Array.from({ length: count }, (_, i) => `${prefix}_${run}_${i}`)
      await Promise.all(
        ids.map((id, i) =>
          publish(js, subject, { id, amount: 1000 + i, currency: 'EUR', status: 'created' }, { msgID: id }),
        ),
      )
      return ids
    },
    publishRaw: (subject: string, data: string, msgID: string) => publish(js, subject, data, { msgID }),
    async close() {
      for (const s of streams) await jsm.streams.delete(s).catch(() => undefined)
      await nc.close()
    },
  }
}

/** The admin server's base URL. */
export function adminUrl(service: NotificationWorker): string {
  const address = service.adminAddress()
  if (address === null) throw new Error('admin server not listening')
  return `http://127.0.0.1:${address.port}`
}

/** GET /metrics of the admin server, as text. */
export async function scrape(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`)
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`)
  return res.text()
}

/** The value of one sample in Prometheus text, or undefined when the series is absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return undefined
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** A private nats-server with JetStream on a free port and a temporary store, for tests that need ORDERS. */
export async function privateNatsServer(port?: number) {
  port ??= await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'nw-nats-'))
  const bin = process.env.NATS_SERVER_BIN ?? 'nats-server'
  const child: ChildProcess = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], {
    stdio: 'ignore',
    env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` },
  })
  let failed: Error | undefined
  child.once('error', (err) => {
    failed = err
  })
  const url = `nats://127.0.0.1:${port}`
  await waitFor('the private nats-server', async () => {
    if (failed)
      throw new Error(
        `cannot run ${bin} (apt-get install nats-server, or set NATS_SERVER_BIN): ${failed.message}`,
      )
    const nc = await connect({ servers: url, reconnect: false })
    await nc.close()
    return true
  })
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
