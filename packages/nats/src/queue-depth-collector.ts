import {
  createQueueDepthGauge,
  ErrorCodes,
  type GoreliableHost,
  InvalidOptionError,
  perRegistry,
  type QueueDepthGauge,
  type QueueDepthSample,
  TimeoutError,
  validate,
} from '@goreliable/core'
import type { ConsumerInfo, JetStreamManager } from '@nats-io/jetstream'
import type { Registry } from 'prom-client'
import { registerNatsBuildInfo } from './build-info.js'
import { requireHost, requireName } from './worker-options.js'

export interface QueueDepthCollectorOptions {
  /** A JetStreamManager (`await jetstreamManager(nc)`); its `consumers.info()` is asked at scrape time. */
  jsm: JetStreamManager
  /** The stream of the consumers. */
  stream: string
  /** One consumer name, or several of the same stream (one consumer info request each, in parallel). */
  consumer: string | readonly string[]
  /**
   * Registry for the four gauges. Collectors sharing a registry share the gauges, and one scrape asks for
   * every consumer of every collector at once.
   * @default host.registry
   */
  registry?: Registry
  /**
   * Where the registry comes from when `registry` is not given.
   * @default none
   */
  host?: GoreliableHost
  /**
   * How long one round of consumer info answers (or its failure) is served to scrapes.
   * @default 1000
   */
  cacheMs?: number
  /**
   * Longest wait for one round; past it the scrape gets the last good values and the error counters rise.
   * @default 2000
   */
  timeoutMs?: number
}

/** Every option `createQueueDepthCollector` accepts; the docs test checks each one is documented. */
export const createQueueDepthCollectorOptionKeys = [
  'jsm',
  'stream',
  'consumer',
  'registry',
  'host',
  'cacheMs',
  'timeoutMs',
] as const satisfies readonly (keyof QueueDepthCollectorOptions)[]

export interface QueueDepthCollector {
  /** Why the latest round failed (a `GR_ERR_COLLECT_TIMEOUT` TimeoutError, or the client's error). */
  readonly lastError: unknown
  /** Asks the server now, ignoring the cache. Never rejects. */
  refresh(): Promise<void>
  /** Stops reporting this collector's consumers; the last collector of a registry unregisters the gauges. */
  close(): void
}

/** The four gauges, each read from the same consumer info answer. */
const GAUGES: ReadonlyArray<[name: string, help: string, read: (i: ConsumerInfo) => number]> = [
  [
    'jetstream_consumer_num_pending',
    'Messages in the stream the consumer has not delivered yet (consumer info num_pending).',
    (i) => i.num_pending,
  ],
  [
    'jetstream_consumer_num_ack_pending',
    'Messages delivered to the consumer and not acknowledged yet (consumer info num_ack_pending).',
    (i) => i.num_ack_pending,
  ],
  [
    'jetstream_consumer_num_redelivered',
    'Messages delivered more than once and not acknowledged yet (consumer info num_redelivered).',
    (i) => i.num_redelivered,
  ],
  [
    'queue_depth_messages',
    'Messages waiting for the consumer: num_pending + num_ack_pending, the lag KEDA’s NATS JetStream scaler uses. Scale on this.',
    (i) => i.num_pending + i.num_ack_pending,
  ],
]

interface Target {
  jsm: JetStreamManager
  stream: string
  consumer: string
}

interface Shared {
  readonly targets: Map<string, Target>
  readonly gauges: QueueDepthGauge[]
  readonly cacheMs: number
  readonly timeoutMs: number
  /** The round in flight, or the last one while it is fresh: the four gauges of a scrape share it. */
  round: { promise: Promise<ConsumerInfo[]>; settledAt: number | undefined } | undefined
}

const sharedOf = perRegistry<{ current: Shared | undefined }>()

/**
 * Exports, per stream and consumer, `jetstream_consumer_num_pending`, `jetstream_consumer_num_ack_pending`,
 * `jetstream_consumer_num_redelivered` and `queue_depth_messages` (pending + ack pending), read at scrape
 * time from one consumer info request per consumer, shared by the four gauges, through core's cached and
 * time-bounded `createQueueDepthGauge`: a dead server never stalls a scrape.
 *
 * @example
 * createQueueDepthCollector({ jsm: await jetstreamManager(nc), stream: 'NOTIFY', consumer: 'email', host })
 */
export function createQueueDepthCollector(options: QueueDepthCollectorOptions): QueueDepthCollector {
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, createQueueDepthCollectorOptionKeys)
  const jsm = o.jsm as Partial<JetStreamManager> | undefined
  if (typeof jsm?.consumers?.info !== 'function') {
    throw new InvalidOptionError('jsm', 'a JetStreamManager (await jetstreamManager(nc))', o.jsm)
  }
  const stream = requireName('stream', o.stream)
  const names = Array.isArray(o.consumer) ? (o.consumer as unknown[]) : [o.consumer]
  if (names.length === 0)
    throw new InvalidOptionError('consumer', 'a consumer name or a non-empty list', o.consumer)
  const consumers = names.map((n, i) =>
    requireName(Array.isArray(o.consumer) ? `consumer[${i}]` : 'consumer', n),
  )
  const host = o.host === undefined ? undefined : requireHost(o.host)
  const registry =
    o.registry !== undefined ? validate.requireRegistry('registry', o.registry) : host?.registry
  if (registry === undefined) {
    throw new InvalidOptionError('registry', 'a prom-client Registry (or a `host` that has one)')
  }
  const cacheMs = validate.optionalNumber('cacheMs', o.cacheMs, 1000, { max: 2 ** 31 - 1 })
  const timeoutMs = validate.optionalNumber('timeoutMs', o.timeoutMs, 2000, { min: 1, max: 2 ** 31 - 1 })

  const keys = consumers.map((c) => `${stream}\u0000${c}`)
  const holder = sharedOf(registry, () => ({ current: undefined }))
  const existing = holder.current
  for (const [i, key] of keys.entries()) {
    if (existing?.targets.has(key) || keys.indexOf(key) !== i) {
      throw new InvalidOptionError('consumer', 'a consumer not collected yet in this registry', consumers[i])
    }
  }
  if (existing && (existing.cacheMs !== cacheMs || existing.timeoutMs !== timeoutMs)) {
    const which = existing.cacheMs !== cacheMs ? 'cacheMs' : 'timeoutMs'
    throw new InvalidOptionError(
      which,
      `${existing[which]}, as the collector already in this registry`,
      o[which],
    )
  }
  const shared = existing ?? createShared(registry, cacheMs, timeoutMs)
  holder.current = shared
  for (const [i, key] of keys.entries()) {
    shared.targets.set(key, { jsm: jsm as JetStreamManager, stream, consumer: consumers[i]! })
  }
  shared.round = undefined
  registerNatsBuildInfo(registry)

  let closed = false
  const depth = shared.gauges[shared.gauges.length - 1]!
  return {
    get lastError() {
      return depth.lastError
    },
    async refresh() {
      if (closed) return
      shared.round = undefined
      await Promise.all(shared.gauges.map((g) => g.refresh()))
    },
    close() {
      if (closed) return
      closed = true
      for (const key of keys) shared.targets.delete(key)
      shared.round = undefined
      if (shared.targets.size === 0) {
        for (const g of shared.gauges) g.close()
        if (holder.current === shared) holder.current = undefined
      } else {
        // The gauges would serve this collector's consumers until their cache expires: collect now.
        for (const g of shared.gauges) void g.refresh()
      }
    },
  }
}

function createShared(registry: Registry, cacheMs: number, timeoutMs: number): Shared {
  const shared: Shared = { targets: new Map(), gauges: [], cacheMs, timeoutMs, round: undefined }
  const round = (): Promise<ConsumerInfo[]> => {
    const current = shared.round
    if (current && (current.settledAt === undefined || performance.now() - current.settledAt < cacheMs)) {
      return current.promise
    }
    const targets = [...shared.targets.values()]
    const promise = bounded(
      Promise.all(targets.map((t) => t.jsm.consumers.info(t.stream, t.consumer))),
      timeoutMs,
    )
    const next = { promise, settledAt: undefined as number | undefined }
    const settle = () => {
      next.settledAt = performance.now()
    }
    promise.then(settle, settle)
    shared.round = next
    return promise
  }
  try {
    for (const [name, help, read] of GAUGES) {
      const gauge = createQueueDepthGauge({
        name,
        help,
        labelNames: ['stream_name', 'consumer_name'],
        registry,
        cacheMs,
        timeoutMs,
        collect: async (): Promise<QueueDepthSample[]> =>
          (await round()).map((info) => ({
            labels: { stream_name: info.stream_name, consumer_name: info.name },
            value: read(info),
          })),
      })
      shared.gauges.push(gauge)
    }
  } catch (err) {
    for (const g of shared.gauges) g.close()
    throw err
  }
  return shared
}

/** Rejects at `ms` so a round stuck on a dead server is not joined by every later scrape. */
function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new TimeoutError(ErrorCodes.COLLECT_TIMEOUT, 'consumer info', ms)),
      ms,
    ).unref()
    p.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (err: unknown) => {
        clearTimeout(timer)
        reject(err)
      },
    )
  })
}
