// The order service's connection to NATS. Order intake never waits for it: the service starts, takes
// orders and writes them to the outbox whether NATS is up or not, and the relay publishes once this link
// has a connection and the stream exists. So the link keeps trying in the background, forever.

import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream'
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node'

/** Where the link logs (pino fits). */
export interface LinkLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/** Options of {@link createNatsLink}. */
export interface NatsLinkOptions {
  /** Server URLs. */
  servers: string[]
  /** The connection's name, seen in the server's monitoring. */
  name: string
  /** The JetStream stream to create if missing. */
  stream: string
  /** Its subjects. */
  streamSubjects: string[]
  /** Its de-duplication window: a message with a `Nats-Msg-Id` seen within it is dropped. */
  duplicateWindowMs: number
  /** How long it keeps a message. */
  maxAgeMs: number
  /** Time between connection attempts, before the first connection and after a reconnect gave up. */
  retryIntervalMs: number
  logger: LinkLogger
}

/** A connection that comes when it can. */
export interface NatsLink {
  /** A JetStream client once connected and the stream exists; undefined until then (and while closing). */
  jetstream(): Promise<JetStreamClient | undefined>
  /** The connection, once there is one. */
  connection(): NatsConnection | undefined
  /** Stops trying, and drains the connection if there is one. */
  close(): Promise<void>
}

/** Starts connecting at once, in the background. */
export function createNatsLink(options: NatsLinkOptions): NatsLink {
  const { logger } = options
  let nc: NatsConnection | undefined
  let js: JetStreamClient | undefined
  let streamReady = false
  let closed = false
  let wake: (() => void) | undefined
  let warnedConnect = false

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      timer.unref()
      wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })

  const loop = (async () => {
    while (!closed) {
      try {
        const conn = await connect({
          servers: options.servers,
          name: options.name,
          // Once connected, reconnect forever: publishes wait in the outbox, not in memory.
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          timeout: 2000,
        })
        if (closed) {
          await conn.close()
          break
        }
        nc = conn
        js = jetstream(conn)
        streamReady = false
        warnedConnect = false
        logger.info({ server: conn.getServer() }, 'connected to NATS')
        void watchReconnects(conn)
        const error = await conn.closed()
        nc = undefined
        js = undefined
        if (!closed) logger.warn({ err: error }, 'NATS connection closed; connecting again')
      } catch (err) {
        // Logged once per outage, not once per attempt.
        if (!warnedConnect) logger.warn({ err }, 'cannot connect to NATS yet; orders wait in the outbox')
        warnedConnect = true
      }
      if (!closed) await pause(options.retryIntervalMs)
    }
  })()

  // The server reconnected to may be another one, or a restarted one without the stream: check again.
  async function watchReconnects(conn: NatsConnection): Promise<void> {
    try {
      for await (const s of conn.status()) if (s.type === 'reconnect') streamReady = false
    } catch {
      // The iterator ends with the connection.
    }
  }

  async function ensureStream(conn: NatsConnection): Promise<void> {
    const jsm = await jetstreamManager(conn)
    if (await streamExists(jsm)) return
    try {
      // The notification worker creates the same stream with the same settings: whoever starts first.
      await jsm.streams.add({
        name: options.stream,
        subjects: options.streamSubjects,
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: nanos(options.maxAgeMs),
        duplicate_window: nanos(options.duplicateWindowMs),
        num_replicas: 1,
      })
      logger.info({ stream: options.stream }, 'created the JetStream stream')
    } catch (err) {
      // Another instance (or the worker) created it between the check and add(): fine.
      if (!(await streamExists(jsm))) throw err
    }
  }

  async function streamExists(jsm: JetStreamManager): Promise<boolean> {
    try {
      await jsm.streams.info(options.stream)
      return true
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return false
      throw err
    }
  }

  return {
    async jetstream() {
      const conn = nc
      if (closed || conn === undefined || js === undefined) return undefined
      if (!streamReady) {
        await ensureStream(conn)
        streamReady = true
      }
      return js
    },
    connection: () => nc,
    async close() {
      closed = true
      wake?.()
      const conn = nc
      if (conn !== undefined && !conn.isClosed()) await conn.drain().catch(() => conn.close())
      await loop
    },
  }
}
