// Creates the stream and the durable consumer the worker reads, idempotently: every replica runs this at
// start, and so may the order service (for the stream). Whoever comes first creates; the others check.

import {
  AckPolicy,
  type ConsumerInfo,
  DeliverPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamInfo,
} from '@nats-io/jetstream'
import { StreamConfigError } from './errors.js'

/** JetStream's API error codes for a missing stream or consumer. */
const STREAM_NOT_FOUND = 10059
const CONSUMER_NOT_FOUND = 10014
const NS_PER_MS = 1_000_000
/** How long the stream keeps orders (and dead letters): a week, so a demo never fills a disk. */
const MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000
/** The server's default: a `Nats-Msg-Id` seen in the last 2 minutes is stored once. */
const DUPLICATE_WINDOW_MS = 2 * 60 * 1000
/** Longer than any notification call, so a message still being handled is not redelivered. */
const ACK_WAIT_MS = 30_000
/** Messages delivered and not acked yet, across every replica: 8 replicas at 16 + 16 stay well below. */
const MAX_ACK_PENDING = 1000

export interface StreamSpec {
  stream: string
  streamSubjects: readonly string[]
  subject: string
}

export interface ConsumerSpec {
  stream: string
  consumer: string
  subject: string
}

/** Ensures `stream` exists and stores `subject`. Returns what the stream looks like now. */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<StreamInfo> {
  let info = await streamInfo(jsm, spec.stream)
  if (info === undefined) {
    try {
      info = await jsm.streams.add({
        name: spec.stream,
        subjects: [...spec.streamSubjects],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: MAX_AGE_MS * NS_PER_MS,
        duplicate_window: DUPLICATE_WINDOW_MS * NS_PER_MS,
        num_replicas: 1,
      })
    } catch (err) {
      // Another replica (or the order service) created it in between, maybe with other settings: fine,
      // as long as it stores our subject (checked below).
      info = await streamInfo(jsm, spec.stream)
      if (info === undefined) throw err
    }
  }
  let owner: string | undefined
  try {
    owner = await jsm.streams.find(spec.subject)
  } catch {
    owner = undefined
  }
  if (owner !== spec.stream) {
    throw new StreamConfigError(
      `Stream "${spec.stream}" does not store subject "${spec.subject}" (its subjects: ${info.config.subjects?.join(', ') ?? 'none'}${owner ? `; stream "${owner}" does` : ''})`,
    )
  }
  return info
}

/**
 * Ensures the durable pull consumer exists and reads `subject`. An existing consumer with another filter is
 * an error rather than something to overwrite: it may be another team's, or an operator's deliberate change.
 */
export async function ensureConsumer(jsm: JetStreamManager, spec: ConsumerSpec): Promise<ConsumerInfo> {
  let info = await consumerInfo(jsm, spec.stream, spec.consumer)
  if (info === undefined) {
    // Creating a consumer with a configuration identical to an existing one succeeds, so replicas racing
    // here all succeed.
    info = await jsm.consumers.add(spec.stream, {
      durable_name: spec.consumer,
      filter_subject: spec.subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      // The worker counts failures itself and dead-letters after its maxDeliver; the server must never
      // drop a message on its own (breaker hand-backs count as deliveries here).
      max_deliver: -1,
      ack_wait: ACK_WAIT_MS * NS_PER_MS,
      max_ack_pending: MAX_ACK_PENDING,
    })
  }
  const filter = info.config.filter_subject
  if (filter !== spec.subject) {
    throw new StreamConfigError(
      `Consumer "${spec.consumer}" of stream "${spec.stream}" reads "${filter ?? '(every subject)'}", not "${spec.subject}"; delete it or name another consumer`,
    )
  }
  return info
}

async function streamInfo(jsm: JetStreamManager, stream: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(stream)
  } catch (err) {
    if (apiCode(err) === STREAM_NOT_FOUND) return undefined
    throw err
  }
}

async function consumerInfo(
  jsm: JetStreamManager,
  stream: string,
  consumer: string,
): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, consumer)
  } catch (err) {
    if (apiCode(err) === CONSUMER_NOT_FOUND) return undefined
    throw err
  }
}

/** JetStreamApiError's `code`, read by shape: a duplicate install of the client breaks `instanceof`. */
function apiCode(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code
}
