import type { ConsumerInfo, JetStreamManager } from '@nats-io/jetstream'
import { ConsumerConfigError, DeadLetterError, messageOf } from './errors.js'
import type { WorkerLogger } from './types.js'

/** What the worker takes from the consumer's configuration. */
export interface ConsumerSettings {
  ackWaitMs: number
  /** The server's own redelivery limit; -1 (or 0) for none. */
  serverMaxDeliver: number
}

/**
 * Reads the consumer and refuses configurations the worker cannot honour, at start() rather than as lost
 * messages later.
 */
export async function checkConsumer(
  jsm: JetStreamManager,
  o: {
    stream: string
    consumer: string
    maxDeliver: number
    capacity: number
    deadLetterSubject: string | undefined
    logger: WorkerLogger
  },
): Promise<ConsumerSettings> {
  const { stream, consumer } = o
  let info: ConsumerInfo
  try {
    info = await jsm.consumers.info(stream, consumer)
  } catch (err) {
    throw new ConsumerConfigError(stream, consumer, `could not be read (${messageOf(err)})`, err)
  }
  const c = info.config
  if (c.deliver_subject) {
    throw new ConsumerConfigError(stream, consumer, 'is a push consumer; the worker reads pull consumers')
  }
  if (c.ack_policy !== 'explicit') {
    throw new ConsumerConfigError(stream, consumer, `has ack_policy "${c.ack_policy}"; it must be "explicit"`)
  }
  const serverMaxDeliver = c.max_deliver ?? -1
  // The server stops redelivering after max_deliver deliveries, breaker and shutdown hand-backs included;
  // at or below the worker's own maxDeliver, messages would vanish before the worker could dead-letter them.
  if (serverMaxDeliver > 0 && serverMaxDeliver <= o.maxDeliver) {
    throw new ConsumerConfigError(
      stream,
      consumer,
      `has max_deliver ${serverMaxDeliver}, not above the worker's maxDeliver ${o.maxDeliver}: set it to -1 and let the worker count failures`,
    )
  }
  const maxAckPending = c.max_ack_pending ?? -1
  if (maxAckPending > 0 && maxAckPending < o.capacity) {
    o.logger.warn(
      { stream, consumer, maxAckPending, capacity: o.capacity },
      'consumer max_ack_pending is below concurrency + prefetch: the server will hand out fewer messages',
    )
  }
  if (o.deadLetterSubject !== undefined) {
    await checkDeadLetter(jsm, o.deadLetterSubject, stream, consumer, [
      c.filter_subject,
      ...(c.filter_subjects ?? []),
    ])
  }
  return { ackWaitMs: c.ack_wait ? c.ack_wait / 1e6 : 30_000, serverMaxDeliver }
}

async function checkDeadLetter(
  jsm: JetStreamManager,
  subject: string,
  stream: string,
  consumer: string,
  filters: (string | undefined)[],
): Promise<void> {
  let owner: string
  try {
    owner = await jsm.streams.find(subject)
  } catch (err) {
    throw new DeadLetterError(subject, `no stream stores it (${messageOf(err)}); create one that does`, err)
  }
  if (owner !== stream) return
  const set = filters.filter((f): f is string => typeof f === 'string' && f.length > 0)
  if (set.length === 0 || set.some((f) => subjectMatches(f, subject))) {
    throw new ConsumerConfigError(
      stream,
      consumer,
      `reads the dead-letter subject "${subject}" too: dead letters would come back to this worker`,
    )
  }
}

/** NATS subject matching: `*` is one token, `>` one or more trailing tokens. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.')
  const s = subject.split('.')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i
    if (i >= s.length) return false
    if (f[i] !== '*' && f[i] !== s[i]) return false
  }
  return f.length === s.length
}
