// Forwarding to the order service: one breaker (`order-service`) for the service as a whole, held open
// while none of its instances is ready, and behind it a failover over the instances that is safe by
// construction: a request is sent to a second instance only when the first never got it (a connection-level
// failure) or when sending it twice cannot create two orders (GET, or a POST with an Idempotency-Key, which
// the order service de-duplicates).

import { isUpstreamConnectionError } from '@goreliable/fastify'
import type { FastifyInstance } from 'fastify'
import { Counter } from 'prom-client'
import { UpstreamResponseError, UpstreamTimeoutError } from './upstream-errors.js'

/** A request to forward. */
export interface UpstreamRequest {
  method: 'GET' | 'POST'
  /** Path and query, e.g. `/api/v1/orders`. */
  path: string
  headers: Record<string, string>
  body?: Buffer
}

/** A 2xx or 3xx answer of the order service. */
export interface UpstreamResponse {
  status: number
  headers: Record<string, string>
  body: Buffer
}

/** Options of {@link createOrderProxy}. */
export interface OrderProxyOptions {
  /** Base URLs of the order-service instances. */
  urls: readonly string[]
  /** Readiness URLs; the breaker is held open while none of them answers 200. Empty: no health check. */
  readyUrls: readonly string[]
  /** Longest time for one forwarded request, failovers included. */
  timeoutMs: number
  /** Time between two readiness checks. */
  healthCheckIntervalMs: number
  /** The breaker's `resetTimeoutMs`, `errorThresholdPercentage`, `volumeThreshold`, `rollingCountTimeoutMs`. */
  breaker: {
    resetTimeoutMs: number
    errorThresholdPercentage: number
    volumeThreshold: number
    rollingCountTimeoutMs: number
  }
}

/** Response headers of the order service that mean something to the client. */
const RELAYED_HEADERS = ['content-type', 'location', 'retry-after', 'idempotent-replayed'] as const

/** Forwards requests to the order service; its breaker is `app.goreliable.breaker('order-service')`. */
export function createOrderProxy(
  app: FastifyInstance,
  options: OrderProxyOptions,
): (request: UpstreamRequest) => Promise<UpstreamResponse> {
  const { urls, timeoutMs } = options
  const retries = new Counter({
    name: 'gateway_upstream_retries_total',
    help: 'Requests sent again to another order-service instance after a connection-level failure.',
    labelNames: ['upstream'],
    registers: [app.goreliable.registry],
  })
  retries.inc({ upstream: 'order-service' }, 0)
  let next = 0

  async function send(
    base: string,
    request: UpstreamRequest,
    signal: AbortSignal,
  ): Promise<UpstreamResponse> {
    const res = await fetch(new URL(request.path, base), {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined && { body: request.body }),
      signal,
    })
    const headers: Record<string, string> = {}
    for (const name of RELAYED_HEADERS) {
      const value = res.headers.get(name)
      if (value !== null) headers[name] = value
    }
    const body = Buffer.from(await res.arrayBuffer())
    if (res.status >= 400) throw new UpstreamResponseError(res.status, headers, body)
    return { status: res.status, headers, body }
  }

  async function forward(request: UpstreamRequest): Promise<UpstreamResponse> {
    const retryable = request.method === 'GET' || request.headers['idempotency-key'] !== undefined
    // One deadline for all attempts. Aborting cancels the fetch itself, which opossum's own timeout cannot.
    const signal = AbortSignal.timeout(timeoutMs)
    const first = next++ % urls.length
    for (let i = 0; ; i++) {
      const base = urls[(first + i) % urls.length] as string
      try {
        return await send(base, request, signal)
      } catch (err) {
        if (signal.aborted) throw new UpstreamTimeoutError(timeoutMs)
        const last = i === urls.length - 1
        if (last || !retryable || !isUpstreamConnectionError(err)) throw err
        retries.inc({ upstream: 'order-service' })
        app.log.warn({ err, instance: base }, 'order-service instance unreachable; trying the next one')
      }
    }
  }

  const breaker = app.goreliable.breaker('order-service', forward, {
    timeoutMs: false,
    ...options.breaker,
    isFailure: (err) => !(err instanceof UpstreamResponseError && !err.isServerError),
    ...(options.readyUrls.length > 0 && {
      healthCheck: {
        check: () => anyReady(options.readyUrls, Math.min(1000, options.healthCheckIntervalMs)),
        intervalMs: options.healthCheckIntervalMs,
      },
    }),
  })
  return (request) => breaker.fire(request)
}

/** Resolves when at least one of `urls` answers 200 within `timeoutMs`. */
async function anyReady(urls: readonly string[], timeoutMs: number): Promise<void> {
  await Promise.any(
    urls.map(async (url) => {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
      await res.body?.cancel()
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}`)
    }),
  )
}
