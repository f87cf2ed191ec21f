// Forwarding to the order service. Two layers of breakers, as a service mesh does it (per-host outlier
// ejection under a service-level breaker):
// - one breaker per instance (`order-service@host:port`, only when there are several), which takes an
//   instance out of the rotation while it fails or its /readyz does, so one dead instance among two costs
//   nobody a failed request;
// - the `order-service` breaker around the whole forward, held open while no instance is ready: it opens
//   only when the service as a whole is failing, and its name is what dashboards and alerts watch.
// A request goes to a second instance only when that is safe: the first never got it (the connection was
// never established), or sending it twice cannot create two orders (GET, or a POST with an
// Idempotency-Key, which the order service de-duplicates) and the first failed at the connection or
// declined with 503.

import { type Breaker, BreakerOpenError } from '@goreliable/core'
import { isUpstreamConnectionError } from '@goreliable/fastify'
import type { FastifyInstance } from 'fastify'
import { Counter } from 'prom-client'
import { isNeverSent } from './never-sent.js'
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
  /**
   * Readiness URLs, one per instance in the order of `urls`: each instance's breaker is held open while its
   * URL fails, and the `order-service` breaker while all of them do. Empty: no health check.
   */
  readyUrls: readonly string[]
  /** Longest time for one forwarded request, failovers included. */
  timeoutMs: number
  /** Time between two readiness checks. */
  healthCheckIntervalMs: number
  /** The breakers' `resetTimeoutMs`, `errorThresholdPercentage`, `volumeThreshold`, `rollingCountTimeoutMs`. */
  breaker: {
    resetTimeoutMs: number
    errorThresholdPercentage: number
    volumeThreshold: number
    rollingCountTimeoutMs: number
  }
}

/** The name of the service-level breaker, and the `upstream` label of the retries counter. */
export const ORDER_SERVICE_BREAKER = 'order-service'

/** Response headers of the order service that mean something to the client. */
const RELAYED_HEADERS = ['content-type', 'location', 'retry-after', 'idempotent-replayed'] as const

type Send = (request: UpstreamRequest, signal: AbortSignal) => Promise<UpstreamResponse>

interface Instance {
  url: string
  send: Send
  /** False while the instance's breaker refuses calls. */
  accepting: () => boolean
}

/** The name of the breaker of the instance at `url`: `order-service@127.0.0.1:8081`. */
export function instanceBreakerName(url: string): string {
  return `${ORDER_SERVICE_BREAKER}@${new URL(url).host}`
}

/** Forwards requests to the order service through the breakers described above. */
export function createOrderProxy(
  app: FastifyInstance,
  options: OrderProxyOptions,
): (request: UpstreamRequest) => Promise<UpstreamResponse> {
  const { urls, readyUrls, timeoutMs } = options
  const retries = new Counter({
    name: 'gateway_upstream_retries_total',
    help: 'Requests sent again to another order-service instance after a connection-level failure or a 503.',
    labelNames: ['upstream'],
    registers: [app.goreliable.registry],
  })
  retries.inc({ upstream: ORDER_SERVICE_BREAKER }, 0)
  const breakerOptions = {
    timeoutMs: false as const,
    ...options.breaker,
    // A 4xx is the client's mistake (a bad body, an unknown order) and must never open a breaker for
    // everyone else.
    isFailure: (err: unknown) => !(err instanceof UpstreamResponseError && !err.isServerError),
  }
  const healthCheck = (urlsToCheck: readonly string[]) =>
    urlsToCheck.length === 0
      ? {}
      : {
          healthCheck: {
            check: () => anyReady(urlsToCheck, Math.min(1000, options.healthCheckIntervalMs)),
            intervalMs: options.healthCheckIntervalMs,
          },
        }

  // One instance needs no breaker of its own: the service-level one is it.
  const instances: Instance[] = urls.map((url, i) => {
    const send: Send = (request, signal) => sendTo(url, request, signal)
    if (urls.length === 1) return { url, send, accepting: () => true }
    const ready = readyUrls[i]
    const breaker: Breaker<Parameters<Send>, UpstreamResponse> = app.goreliable.breaker(
      instanceBreakerName(url),
      send,
      { ...breakerOptions, ...healthCheck(ready === undefined ? [] : [ready]) },
    )
    return {
      url,
      send: (request, signal) => breaker.fire(request, signal),
      accepting: () => breaker.retryAfterSeconds() === 0,
    }
  })

  let next = 0
  async function forward(request: UpstreamRequest): Promise<UpstreamResponse> {
    const idempotent = request.method === 'GET' || request.headers['idempotency-key'] !== undefined
    // One deadline for all attempts. Aborting cancels the fetch itself, which opossum's own timeout cannot.
    const signal = AbortSignal.timeout(timeoutMs)
    const first = next++ % instances.length
    let refused: BreakerOpenError | undefined
    let failed: unknown
    for (let i = 0; i < instances.length; i++) {
      const instance = instances[(first + i) % instances.length]!
      if (failed !== undefined && instance.accepting()) {
        retries.inc({ upstream: ORDER_SERVICE_BREAKER })
        app.log.warn({ err: failed, instance: instance.url }, 'trying the next order-service instance')
      }
      try {
        return await instance.send(request, signal)
      } catch (err) {
        if (signal.aborted) throw new UpstreamTimeoutError(timeoutMs)
        // An instance taken out of the rotation: the request never left, so the next one may take it.
        if (err instanceof BreakerOpenError) {
          if (refused === undefined || (err.retryAfterSeconds ?? 0) < (refused.retryAfterSeconds ?? 0))
            refused = err
          continue
        }
        if (!mayTryNext(err, idempotent)) throw err
        failed = err
      }
    }
    // Every instance failed or is out of the rotation: the last failure, else the soonest Retry-After.
    throw failed ?? refused
  }

  const breaker = app.goreliable.breaker(ORDER_SERVICE_BREAKER, forward, {
    ...breakerOptions,
    ...healthCheck(readyUrls),
  })
  return (request) => breaker.fire(request)
}

/**
 * Whether an attempt that failed with `err` may go to the next instance. A refused connection: the
 * instance never saw the request. A reset or closed connection, or a 503 answer: only a request that
 * cannot create two orders when sent twice. A 503 is an instance declining the work (Fastify answers it to
 * a request that arrives while the instance closes, the order service when its pool is exhausted), and RFC
 * 9110 makes it "try again later", which another instance may do now. Any other answer is final.
 */
function mayTryNext(err: unknown, idempotent: boolean): boolean {
  if (err instanceof UpstreamResponseError) return idempotent && err.status === 503
  return isUpstreamConnectionError(err) && (idempotent || isNeverSent(err))
}

async function sendTo(
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
