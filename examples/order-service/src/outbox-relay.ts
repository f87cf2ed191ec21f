// The outbox relay: publishes the outbox rows to JetStream and marks them published once the server has
// acknowledged them. It never loses an event: a row stays in the outbox until its publish is acknowledged,
// however long NATS is down. It never publishes one twice in the stream: each message carries
// `Nats-Msg-Id` = the order id, which the stream de-duplicates within its window, and a row is claimed
// (FOR UPDATE SKIP LOCKED, then a lease) so that two instances never publish the same row at once.
//
// It polls: LISTEN/NOTIFY would be quicker but does not exist on PGlite (`npm run demo` without a local
// PostgreSQL). Orders created by this instance wake it at once, so polling only sets the delay for orders
// another instance created while its own relay was busy.

import { createQueueDepthGauge, type QueueDepthGauge } from '@goreliable/core'
import { publish } from '@goreliable/nats'
import type { Pool } from 'pg'
import type { Registry } from 'prom-client'
import type { NatsLink } from './nats-link.js'

/** Where the relay logs (pino fits). */
export interface RelayLogger {
  warn(obj: object, msg: string): void
  info(obj: object, msg: string): void
}

/** Options of {@link createOutboxRelay}. */
export interface OutboxRelayOptions {
  pool: Pool
  /** The schema holding the outbox table. */
  schema: string
  link: NatsLink
  /** The stream that must store the messages. */
  stream: string
  /** Metrics: `outbox_pending_messages`, and @goreliable/nats's `nats_publish_*`. */
  registry: Registry
  logger: RelayLogger
  /** Time between two polls when the outbox was empty. */
  pollIntervalMs: number
  /** Rows claimed per round. */
  batchSize: number
  /**
   * How long a claim lasts. A relay that died mid-round leaves its rows to the others after this; it must be
   * well below the stream's duplicate window, so a row published just before the death is de-duplicated.
   */
  leaseMs: number
  /** Longest wait for one publish's ack. */
  publishTimeoutMs: number
  /** Published rows are deleted once older than this. */
  retentionMs: number
}

/** A running relay. */
export interface OutboxRelay {
  /** Runs a round soon (an order was just committed). */
  wake(): void
  /** Stops after the round in progress. */
  stop(): Promise<void>
}

interface OutboxRow {
  id: string
  order_id: string
  subject: string
  payload: unknown
}

/** Starts the relay loop, and registers `outbox_pending_messages`. */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { pool, schema, link, logger } = options
  const claim = {
    name: `outbox-claim:${schema}`,
    text: `WITH next AS (
             SELECT id FROM ${schema}.outbox
             WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
             ORDER BY id
             LIMIT $1
             FOR UPDATE SKIP LOCKED
           )
           UPDATE ${schema}.outbox AS o
           SET claimed_until = now() + make_interval(secs => $2), attempts = o.attempts + 1
           FROM next WHERE o.id = next.id
           RETURNING o.id, o.order_id, o.subject, o.payload`,
  }
  const markPublished = {
    name: `outbox-published:${schema}`,
    text: `UPDATE ${schema}.outbox SET published_at = now(), claimed_until = NULL, last_error = NULL
           WHERE id = ANY($1::bigint[])`,
  }
  const release = {
    name: `outbox-release:${schema}`,
    text: `UPDATE ${schema}.outbox SET claimed_until = NULL, last_error = $2 WHERE id = ANY($1::bigint[])`,
  }
  const prune = {
    name: `outbox-prune:${schema}`,
    text: `DELETE FROM ${schema}.outbox WHERE id IN (
             SELECT id FROM ${schema}.outbox
             WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1)
             LIMIT 1000)`,
  }

  const gauge: QueueDepthGauge = createQueueDepthGauge({
    name: 'outbox_pending_messages',
    help: 'Outbox rows not yet published to JetStream: orders whose orders.created event is still to be sent.',
    registry: options.registry,
    collect: async () => {
      const { rows } = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${schema}.outbox WHERE published_at IS NULL`,
      )
      return Number(rows[0]?.n ?? 0)
    },
  })

  let stopped = false
  let woken = false
  let wakeUp: (() => void) | undefined
  let failing = false
  let lastPrune = 0

  /** One round: claim, publish in order until one fails, mark. Resolves with [published, claimed]. */
  async function round(): Promise<[number, number]> {
    const js = await link.jetstream()
    if (js === undefined) return [0, 0]
    const { rows } = await pool.query<OutboxRow>({
      ...claim,
      values: [options.batchSize, options.leaseMs / 1000],
    })
    rows.sort((a, b) => Number(a.id) - Number(b.id))
    const published: string[] = []
    let failure: unknown
    const started = performance.now()
    for (const row of rows) {
      // Keep well inside the lease: past half of it, leave the rest for the next round.
      if (stopped || performance.now() - started > options.leaseMs / 2) break
      try {
        await publish(js, row.subject, row.payload, {
          msgID: row.order_id,
          expectStream: options.stream,
          timeoutMs: options.publishTimeoutMs,
          registry: options.registry,
        })
        published.push(row.id)
      } catch (err) {
        failure = err
        break
      }
    }
    let marked: string[] = []
    try {
      if (published.length > 0) await pool.query({ ...markPublished, values: [published] })
      marked = published
    } catch (err) {
      // Not marked (an exhausted pool, a lost connection), those rows are released with the rest: publishing
      // them again costs nothing (the stream drops a repeated Nats-Msg-Id), while a claim left in place
      // would hold them, with no error shown, for the whole lease.
      failure ??= err
    }
    const done = new Set(marked)
    const unmarked = rows.filter((r) => !done.has(r.id)).map((r) => r.id)
    if (unmarked.length > 0) {
      try {
        await pool.query({
          ...release,
          values: [unmarked, failure === undefined ? null : String((failure as Error).message ?? failure)],
        })
      } catch (err) {
        // Nothing more to do here: the lease frees them.
        failure ??= err
      }
    }
    if (failure !== undefined) throw failure
    return [marked.length, rows.length]
  }

  async function drain(): Promise<number> {
    let total = 0
    for (;;) {
      const [published, claimed] = await round()
      total += published
      if (claimed < options.batchSize || published < claimed || stopped) return total
    }
  }

  async function maybePrune(): Promise<void> {
    const now = Date.now()
    if (now - lastPrune < 60_000) return
    lastPrune = now
    await pool.query({ ...prune, values: [options.retentionMs / 1000] })
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        const published = await drain()
        if (failing) logger.info({ published }, 'outbox relay is publishing again')
        failing = false
        await maybePrune()
      } catch (err) {
        // Once per run of failures: the rows stay in the outbox and outbox_pending_messages shows the backlog.
        if (!failing) logger.warn({ err }, 'outbox relay cannot publish; retrying')
        failing = true
      }
      if (stopped) break
      if (!woken) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.pollIntervalMs)
          timer.unref()
          wakeUp = () => {
            clearTimeout(timer)
            resolve()
          }
        })
      }
      woken = false
      wakeUp = undefined
    }
  })()

  return {
    wake() {
      woken = true
      wakeUp?.()
    },
    async stop() {
      stopped = true
      wakeUp?.()
      await loop
      gauge.close()
    },
  }
}
