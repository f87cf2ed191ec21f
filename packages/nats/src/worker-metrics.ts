import {
  createFastHistogram,
  DURATION_BUCKETS_SECONDS,
  type HistogramSeries,
  perRegistry,
  registerOnce,
} from '@goreliable/core'
import { Counter, Gauge, type Registry } from 'prom-client'

/** The `outcome` label of `nats_messages_total`: what the worker finally told the server. */
export const MESSAGE_OUTCOMES = ['ack', 'nak', 'dead_letter', 'term'] as const
export type MessageOutcome = (typeof MESSAGE_OUTCOMES)[number]

/**
 * The counts of one stream/consumer pair in one registry. Workers of the same pair share it, and it outlives
 * them, so the counter never goes back when a worker stops.
 */
export interface PairMetrics {
  readonly counts: Record<MessageOutcome, number>
  readonly processing: HistogramSeries
  /** Live workers' in-flight counts, read at scrape time. */
  readonly live: Set<{ readonly inFlight: number }>
}

const pairsOf = perRegistry<Map<string, PairMetrics & { stream: string; consumer: string }>>()

/**
 * Returns the recorders of one stream/consumer pair. Recording is plain arithmetic on the hot path;
 * prom-client's families read the numbers at scrape time (its own `inc()` hashes the labels every call).
 */
export function pairMetrics(registry: Registry, stream: string, consumer: string): PairMetrics {
  const pairs = pairsOf(registry, () => new Map())
  registerOnce(
    registry,
    'nats_messages_total',
    () =>
      new Counter({
        name: 'nats_messages_total',
        help: 'Messages a JetStream worker finished with, by what it told the server: ack, nak (redeliver), dead_letter (published to the dead-letter subject, then terminated) or term (terminated without a dead-letter subject).',
        labelNames: ['stream', 'consumer', 'outcome'],
        registers: [],
        collect() {
          this.reset()
          for (const p of pairs.values()) {
            for (const outcome of MESSAGE_OUTCOMES) {
              this.inc({ stream: p.stream, consumer: p.consumer, outcome }, p.counts[outcome])
            }
          }
        },
      }),
  )
  registerOnce(
    registry,
    'nats_worker_in_flight',
    () =>
      new Gauge({
        name: 'nats_worker_in_flight',
        help: 'Handlers of a JetStream worker running right now.',
        labelNames: ['stream', 'consumer'],
        registers: [],
        collect() {
          this.reset()
          for (const p of pairs.values()) {
            let n = 0
            for (const w of p.live) n += w.inFlight
            this.set({ stream: p.stream, consumer: p.consumer }, n)
          }
        },
      }),
  )
  const histogram = createFastHistogram({
    name: 'nats_message_processing_seconds',
    help: 'Time a JetStream worker spent on one message, from the start of its handler to its ack, nak or dead letter.',
    labelNames: ['stream', 'consumer'],
    buckets: DURATION_BUCKETS_SECONDS,
    registry,
  })
  const key = `${stream}\u0000${consumer}`
  let pair = pairs.get(key)
  if (pair === undefined) {
    const counts = { ack: 0, nak: 0, dead_letter: 0, term: 0 }
    pair = { stream, consumer, counts, processing: histogram.series(stream, consumer), live: new Set() }
    pairs.set(key, pair)
  }
  return pair
}
