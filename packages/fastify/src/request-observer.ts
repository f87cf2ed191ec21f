import { performance } from 'node:perf_hooks'
import {
  createFastHistogram,
  DURATION_BUCKETS_SECONDS,
  type HistogramSeries,
  perRegistry,
  registerOnce,
} from '@goreliable/core'
import type { FastifyReply, FastifyRequest, onErrorHookHandler, onRequestHookHandler } from 'fastify'
import { Gauge, type Registry } from 'prom-client'
import type { RequestLogLevel } from './types.js'

/** The `route` label of requests no route matched: a raw URL would make one series per scanner probe. */
export const UNMATCHED_ROUTE = '__unmatched__'

const IN_FLIGHT_METRIC = 'http_requests_in_flight'
const kReply = Symbol('goreliable.reply')
const kStartMs = Symbol('goreliable.startMs')

/** The raw response, carrying what its `close` listener needs. */
interface ObservedResponse {
  [kReply]: FastifyReply
  [kStartMs]: number
  readonly writableEnded: boolean
  readonly statusCode: number
  readonly req: { method?: string }
  on(event: 'close', listener: (this: ObservedResponse) => void): unknown
}

interface RouteState {
  /** The route template, with its prefix: `/api/v1/orders/:id`. */
  readonly route: string
  readonly counted: boolean
  /** method → status code → series; filled on first use, so later requests do no label work. */
  readonly byMethod: Record<string, HistogramSeries[]>
}

export interface RequestObserverOptions {
  /** Record `http_request_duration_seconds` and `http_requests_in_flight` into this registry. */
  registry: Registry | undefined
  /** Write one log line per request at this level. */
  logLevel: RequestLogLevel | undefined
}

export interface RequestObserver {
  onRequest: onRequestHookHandler
  /** Keeps a request's error for its log line; only with logging (it runs on errors only). */
  onError: onErrorHookHandler | undefined
  /** Stops reporting this app's in-flight count. */
  close(): void
}

/** Every app counting in-flight requests into one registry; the gauge sums them at scrape time. */
const inFlightSources = perRegistry<Set<() => number>>()

/**
 * Records each request's duration and writes its log line, with one `onRequest` hook and one `close`
 * listener on the response.
 *
 * Why not an `onResponse` hook: Fastify runs no `onResponse` hook for a request whose client went away
 * before the answer, so an in-flight count kept with it drifts upwards; and an `onResponse` hook makes
 * Fastify add `finish` and `error` listeners to every response and take two timestamps, which is most of
 * the 1.6 µs an empty `onResponse` hook was measured to cost a hello world (when the app has no logger;
 * with one Fastify does it anyway). A response's `close` event comes exactly once, answered or not, and the
 * listener is one function shared by every response. The hook stores the reply and a start time on the raw
 * response; `close` reads them.
 *
 * The route's state is found through the route's config object (the same object for every request of a
 * route) in a WeakMap, and the histogram series of a (method, status) pair is created once and kept, so
 * recording is a bucket search and two additions (core's createFastHistogram, published at scrape time).
 */
export function createRequestObserver(o: RequestObserverOptions): RequestObserver {
  const histogram =
    o.registry === undefined
      ? undefined
      : createFastHistogram({
          name: 'http_request_duration_seconds',
          help: 'Time from the start of an HTTP request (once routed) to the end of its response, by route template.',
          labelNames: ['method', 'route', 'status_code'],
          buckets: DURATION_BUCKETS_SECONDS,
          registry: o.registry,
        })
  const level = o.logLevel
  const states = new WeakMap<object, RouteState>()
  const errors = new WeakMap<FastifyReply, unknown>()
  let inFlight = 0

  const stateOf = (request: FastifyRequest): RouteState => {
    const config = request.routeOptions.config
    let state = states.get(config)
    if (state === undefined) {
      state = {
        route: config.url ?? UNMATCHED_ROUTE,
        counted: histogram !== undefined && config.goreliable?.metrics !== false,
        byMethod: Object.create(null),
      }
      states.set(config, state)
    }
    return state
  }

  // `this` is the response: one function for every response, so a request allocates no closure.
  function onClose(this: ObservedResponse): void {
    inFlight--
    // Not ended: the client went away before the answer. Neither a duration nor a status code is known.
    if (!this.writableEnded) return
    const ms = performance.now() - this[kStartMs]
    const reply = this[kReply]
    const state = stateOf(reply.request)
    const method = this.req.method ?? 'UNKNOWN'
    const statusCode = this.statusCode
    if (state.counted) {
      let byStatus = state.byMethod[method]
      if (byStatus === undefined) {
        byStatus = []
        state.byMethod[method] = byStatus
      }
      let series = byStatus[statusCode]
      if (series === undefined) {
        series = histogram!.series(method, state.route, String(statusCode))
        byStatus[statusCode] = series
      }
      series.observe(ms / 1000)
    }
    if (level !== undefined) {
      // The request id comes from Fastify's child logger (`reqId`); no header is ever logged.
      const line: Record<string, unknown> = {
        method,
        route: state.route,
        statusCode,
        durationMs: Math.round(ms * 1000) / 1000,
      }
      if (statusCode >= 400) {
        const err = errors.get(reply)
        if (err !== undefined) line.err = err
      }
      reply.log[level](line, 'request completed')
    }
  }

  const onRequest: onRequestHookHandler = (_request, reply, done) => {
    const res = reply.raw as unknown as ObservedResponse
    res[kReply] = reply
    res[kStartMs] = performance.now()
    inFlight++
    res.on('close', onClose)
    done()
  }

  let stopInFlight = () => {}
  if (o.registry !== undefined) {
    const sources = inFlightSources(o.registry, () => new Set())
    registerOnce(
      o.registry,
      IN_FLIGHT_METRIC,
      () =>
        new Gauge({
          name: IN_FLIGHT_METRIC,
          help: 'HTTP requests being answered by the main server.',
          registers: [],
          collect() {
            let n = 0
            for (const read of sources) n += read()
            this.set(n)
          },
        }),
    )
    const read = () => inFlight
    sources.add(read)
    stopInFlight = () => sources.delete(read)
  }

  const onError: onErrorHookHandler | undefined =
    level === undefined
      ? undefined
      : (_request, reply, error, done) => {
          errors.set(reply, error)
          done()
        }

  return { onRequest, onError, close: () => stopInFlight() }
}
