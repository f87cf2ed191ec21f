// Shared by the order service's tests: the real PostgreSQL and NATS, names unique to this run, an
// in-process service on free ports, and readers for what a user would look at (rows, stream messages,
// metric samples).

import { randomBytes } from 'node:crypto'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { serviceUrl } from '../../../scripts/test-services.js'
import { createOrderService, type OrderServiceConfig } from '../src/index.js'

export const databaseUrl = await serviceUrl('DATABASE_URL')
export const natsUrl = await serviceUrl('NATS_URL')

/** `prefix_<random>`: schema and stream names no other test run uses. */
export function unique(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`
}

/** Names of one test file's schema, stream and subject on the shared servers. */
export interface Names {
  schema: string
  stream: string
  subject: string
  streamSubjects: string[]
}

export function uniqueNames(): Names {
  const id = unique('os_test')
  return {
    schema: id,
    stream: id.toUpperCase(),
    subject: `${id}.orders.created`,
    streamSubjects: [`${id}.orders.>`],
  }
}

/** A running service: its app, URLs, and stop() (the SIGTERM sequence, without the exit). */
export interface RunningService {
  app: FastifyInstance
  url: string
  adminUrl: string
  exitCodes: number[]
  stop(): Promise<void>
}

export async function startOrderService(
  names: Names,
  overrides: Partial<OrderServiceConfig> = {},
): Promise<RunningService> {
  const exitCodes: number[] = []
  const app = await createOrderService({
    databaseUrl: databaseUrl as string,
    databaseSchema: names.schema,
    natsUrl: natsUrl as string,
    stream: names.stream,
    subject: names.subject,
    streamSubjects: names.streamSubjects,
    logLevel: 'silent',
    ...overrides,
    goreliable: {
      admin: { port: 0, host: '127.0.0.1' },
      shutdown: { signals: [], exit: (code) => exitCodes.push(code) },
      ...overrides.goreliable,
    },
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address() as { port: number }
  const admin = app.goreliable.adminAddress()
  if (admin === null) throw new Error('no admin server')
  let stopped: Promise<void> | undefined
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    adminUrl: `http://127.0.0.1:${admin.port}`,
    exitCodes,
    stop: () => {
      stopped ??= app.goreliable.shutdown.shutdown('test').then(() => undefined)
      return stopped
    },
  }
}

/** A pg pool of the test's own, for looking at rows. */
export function testPool(): pg.Pool {
  return new pg.Pool({ connectionString: databaseUrl as string, max: 2 })
}

export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
}

/** A message stored in a stream: its `Nats-Msg-Id` and decoded JSON payload. */
export interface StoredEvent {
  msgId: string | undefined
  subject: string
  data: Record<string, unknown>
}

/** Every message of `stream` on `url`, in order (none when the stream does not exist). */
export async function streamEvents(url: string, stream: string): Promise<StoredEvent[]> {
  const nc = await connect({ servers: url.replace(/^nats:\/\//, ''), reconnect: false })
  try {
    const jsm = await jetstreamManager(nc)
    const info = await jsm.streams.info(stream).catch(() => undefined)
    if (info === undefined) return []
    const events: StoredEvent[] = []
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null)
      if (m === null) continue
      events.push({ msgId: m.header.get('Nats-Msg-Id') || undefined, subject: m.subject, data: m.json() })
    }
    return events
  } finally {
    await nc.close()
  }
}

export async function deleteStream(url: string, stream: string): Promise<void> {
  const nc = await connect({ servers: url.replace(/^nats:\/\//, ''), reconnect: false })
  try {
    const jsm = await jetstreamManager(nc)
    await jsm.streams.delete(stream).catch(() => undefined)
  } finally {
    await nc.close()
  }
}

/** The value of the one sample of `name` whose labels include `labels`, from Prometheus text. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3])
  }
  return undefined
}

/** POSTs JSON (or a raw string) to the service; resolves status, headers and parsed body. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} }
}
