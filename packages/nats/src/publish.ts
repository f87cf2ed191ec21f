import {
  createFastHistogram,
  DURATION_BUCKETS_SECONDS,
  type HistogramSeries,
  InvalidOptionError,
  perRegistry,
  registerOnce,
  validate,
} from '@goreliable/core'
import type { JetStreamClient, JetStreamPublishOptions, PubAck } from '@nats-io/jetstream'
import type { MsgHdrs } from '@nats-io/transport-node'
import { Counter, type Registry } from 'prom-client'
import { registerNatsBuildInfo } from './build-info.js'
import { PublishError } from './errors.js'

export interface PublishOptions {
  /**
   * Sent as `Nats-Msg-Id`: the stream drops a second message with the same id within its
   * `duplicate_window` (2 minutes by default), so a publish retried after a lost ack is stored once.
   */
  msgID: string
  /**
   * Headers to send with the message.
   * @default none
   */
  headers?: MsgHdrs
  /**
   * Longest wait for the server's ack.
   * @default the JetStream client's timeout
   */
  timeoutMs?: number
  /**
   * The stream that must store the message; the server refuses it otherwise. Also the `stream` label of a
   * failed publish, which has no ack to name its stream.
   * @default none
   */
  expectStream?: string
  /**
   * Registry for `nats_publish_total` and `nats_publish_duration_seconds`.
   * @default no metrics
   */
  registry?: Registry
}

/** Every option `publish` accepts; the docs test checks each one is documented. */
export const publishOptionKeys = [
  'msgID',
  'headers',
  'timeoutMs',
  'expectStream',
  'registry',
] as const satisfies readonly (keyof PublishOptions)[]

const SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/
const encoder = new TextEncoder()

interface PublishMetrics {
  counter: Counter<'stream' | 'outcome'>
  durations: Map<string, HistogramSeries>
  histogram: ReturnType<typeof createFastHistogram>
}
const metricsOf = perRegistry<PublishMetrics>()

/**
 * Publishes to JetStream and resolves with the server's ack (the message is stored), setting
 * `Nats-Msg-Id` for de-duplication. `data` is sent as is when it is a `Uint8Array` or a string, and as JSON
 * otherwise (what the worker's default `decode` reads).
 *
 * Metrics, when `registry` is given, are labelled by the stream that stored the message, never by subject:
 * subjects often carry ids (`orders.created.8412`) and would make a series per message.
 *
 * @throws PublishError (`GR_ERR_NATS_PUBLISH`) when the server did not store it; InvalidOptionError for bad
 * arguments.
 */
export async function publish(
  js: JetStreamClient,
  subject: string,
  data: unknown,
  options: PublishOptions,
): Promise<PubAck> {
  if (typeof (js as Partial<JetStreamClient> | null)?.publish !== 'function') {
    throw new InvalidOptionError('js', 'a JetStreamClient (jetstream(nc))', js)
  }
  if (typeof subject !== 'string' || !SUBJECT.test(subject)) {
    throw new InvalidOptionError('subject', 'a subject without wildcards', subject)
  }
  const payload = encode(data)
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, publishOptionKeys)
  const opts: Partial<JetStreamPublishOptions> = { msgID: validate.requireString('msgID', o.msgID) }
  if (o.headers !== undefined) {
    if (typeof (o.headers as Partial<MsgHdrs>).set !== 'function') {
      throw new InvalidOptionError('headers', 'a MsgHdrs (headers() of @nats-io/transport-node)', o.headers)
    }
    opts.headers = o.headers as MsgHdrs
  }
  const timeoutMs = validate.optionalNumber('timeoutMs', o.timeoutMs, undefined, { min: 1, max: 2 ** 31 - 1 })
  if (timeoutMs !== undefined) opts.timeout = timeoutMs
  const expectStream = validate.optionalString('expectStream', o.expectStream)
  if (expectStream !== undefined) opts.expect = { streamName: expectStream }
  const metrics =
    o.registry === undefined ? undefined : metricsFor(validate.requireRegistry('registry', o.registry))

  const start = process.hrtime()
  let ack: PubAck
  try {
    ack = await js.publish(subject, payload, opts)
  } catch (err) {
    metrics?.counter.inc({ stream: expectStream ?? '', outcome: 'error' })
    throw new PublishError(subject, err)
  }
  if (metrics) {
    const d = process.hrtime(start)
    let series = metrics.durations.get(ack.stream)
    if (series === undefined) {
      series = metrics.histogram.series(ack.stream)
      metrics.durations.set(ack.stream, series)
    }
    series.observe(d[0] + d[1] / 1e9)
    metrics.counter.inc({ stream: ack.stream, outcome: ack.duplicate ? 'duplicate' : 'ok' })
  }
  return ack
}

function encode(data: unknown): Uint8Array | string {
  if (data instanceof Uint8Array || typeof data === 'string') return data
  const json = JSON.stringify(data)
  if (json === undefined) throw new InvalidOptionError('data', 'a Uint8Array, a string or a JSON value', data)
  return encoder.encode(json)
}

function metricsFor(registry: Registry): PublishMetrics {
  return metricsOf(registry, () => {
    registerNatsBuildInfo(registry)
    const counter = registerOnce(
      registry,
      'nats_publish_total',
      () =>
        new Counter({
          name: 'nats_publish_total',
          help: 'JetStream publishes through publish(), by the stream that stored them and outcome: ok, duplicate (dropped by Nats-Msg-Id de-duplication) or error (not stored).',
          labelNames: ['stream', 'outcome'],
          registers: [],
        }),
    ) as Counter<'stream' | 'outcome'>
    const histogram = createFastHistogram({
      name: 'nats_publish_duration_seconds',
      help: 'Time from a JetStream publish until the server acknowledged it (acknowledged publishes only).',
      labelNames: ['stream'],
      buckets: DURATION_BUCKETS_SECONDS,
      registry,
    })
    return { counter, histogram, durations: new Map() }
  })
}
