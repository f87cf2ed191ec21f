import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import { nowMs } from './clock.js'
import { encode, errorCode, resolveLoadOptions } from './load-options.js'

export { startLoadOptionKeys } from './load-options.js'

/** One request to send, as a generator returns it. */
export interface RequestSpec {
  /** @default 'GET', or 'POST' when there is a body */
  method?: string
  /** Path and query; @default the path of the load's `url` */
  path?: string
  /** Request headers. */
  headers?: Record<string, string>
  /** A string or bytes as they are, or any other value as JSON (with `content-type: application/json`). */
  body?: unknown
  /** Copied to the sample, to match outcomes with what was sent (an idempotency key, say). */
  tag?: string
}

/** Options of {@link startLoad} and {@link runLoad}. Give exactly one of `ratePerSecond` and `concurrency`. */
export interface LoadOptions {
  /** Where to send: origin and default path, `http://127.0.0.1:8080/api/v1/orders`. */
  url: string
  /** How long to keep sending; requests in flight at the end are awaited (each is bounded by `timeoutMs`). */
  durationMs: number
  /** Open loop: requests started per second whatever the answers take (a service that slows down piles up requests, as real traffic does). */
  ratePerSecond?: number
  /** Closed loop: this many clients, each sending its next request when the previous one ended. */
  concurrency?: number
  /** Open loop only: requests allowed in flight; a request due while this many are in flight is not sent and is recorded as dropped. @default 1000 */
  maxInFlight?: number
  /** HTTP connections kept to the target. @default concurrency, or min(maxInFlight, 256) */
  connections?: number
  /** Longest time for one request, connect to end of body; then it counts as status 0, error `TIMEOUT`. @default 10000 */
  timeoutMs?: number
  /** Builds request number `index` (from 0). @default a GET of `url` */
  request?: (index: number) => RequestSpec
  /** Response headers to keep on each sample (lowercase names). @default ['retry-after'] */
  recordHeaders?: string[]
  /** Keep the response body (as text, up to 64 KiB) of the answers for which it returns true. @default never */
  keepBody?: (status: number) => boolean
  /**
   * Closed loop only: a client whose answer carried `Retry-After` (seconds) waits that long before its next
   * request, as a well-behaved client does; without it the clients retry at once, a storm no service is
   * asked to recover from. @default false
   */
  honourRetryAfter?: boolean
  /** Stops sending early when aborted; what is in flight is still awaited. @default none */
  signal?: AbortSignal
}

/** The outcome of one request. */
export interface RequestSample {
  /** Its number, from 0, in the order requests were due. */
  index: number
  /** When it was sent (or due, if dropped), in epoch milliseconds from {@link nowMs}. */
  at: number
  /** From sending to the end of the body or the error, in milliseconds; 0 when dropped. */
  latencyMs: number
  /** The HTTP status, or 0 when there was no answer: refused, reset, closed, timed out or dropped. */
  status: number
  /** For status 0: `ECONNREFUSED`, `ECONNRESET`, `UND_ERR_SOCKET` (closed mid-request), `TIMEOUT`, `DROPPED`, ... */
  error?: string
  /** The `recordHeaders` the answer carried. */
  headers?: Record<string, string>
  /** The body, when `keepBody` asked for it. */
  body?: string
  /** The request's `tag`. */
  tag?: string
}

/** The error of a request that the driver did not send because `maxInFlight` requests were in flight. */
export const DROPPED = 'DROPPED'

/** Everything a load run recorded. */
export interface LoadResult {
  /** `rate` (open loop) or `concurrency` (closed loop). */
  mode: 'rate' | 'concurrency'
  /** The offered rate, in rate mode. */
  ratePerSecond: number | undefined
  /** The number of clients, in concurrency mode. */
  concurrency: number | undefined
  /** Epoch milliseconds when sending started and when the last request ended. */
  startedAt: number
  endedAt: number
  /** One per request, in the order they ended. */
  samples: RequestSample[]
  /** Requests not sent because `maxInFlight` were in flight (also present as samples with error `DROPPED`). */
  dropped: number
}

/** A load run in progress. */
export interface LoadRun {
  /** The samples recorded so far (live: it grows while the run goes on). */
  readonly samples: readonly RequestSample[]
  /** Requests in flight now. */
  readonly inFlight: number
  /** Settles when the run has ended by itself (its duration) or through `stop()`. */
  readonly result: Promise<LoadResult>
  /** Stops sending, waits for requests in flight, and resolves with the result. */
  stop(): Promise<LoadResult>
}

const BODY_LIMIT = 64 * 1024

/**
 * Sends HTTP load to one origin and records every request's outcome with its timestamp, so a chaos
 * experiment can ask what clients saw while a fault lasted and how long it took to recover.
 *
 * Built on undici's `Pool` (the client behind Node's `fetch`): it keeps a bounded set of keep-alive
 * connections, bounds each request by `timeoutMs`, and reports a refused, reset or closed connection with a
 * stable error code, while costing the driver little CPU on a machine it shares with the services.
 */
export function startLoad(options: LoadOptions): LoadRun {
  const o = resolveLoadOptions(options)
  const pool = new Pool(o.origin, {
    connections: o.connections,
    pipelining: 1,
    connect: { timeout: o.timeoutMs },
    headersTimeout: o.timeoutMs,
    bodyTimeout: o.timeoutMs,
  })
  const samples: RequestSample[] = []
  const controller = new AbortController()
  const stopSending = () => controller.abort()
  o.signal?.addEventListener('abort', stopSending, { once: true })
  let inFlight = 0
  let dropped = 0
  let next = 0
  const startedAt = nowMs()
  const deadline = startedAt + o.durationMs

  async function send(index: number): Promise<RequestSample> {
    const spec = o.request(index)
    const sample: RequestSample = { index, at: nowMs(), latencyMs: 0, status: 0 }
    if (spec.tag !== undefined) sample.tag = spec.tag
    inFlight++
    try {
      const { body, headers } = encode(spec)
      const res = await pool.request({
        origin: o.origin,
        method: (spec.method ?? (body === undefined ? 'GET' : 'POST')) as 'GET',
        path: spec.path ?? o.path,
        headers,
        body,
        signal: AbortSignal.timeout(o.timeoutMs),
      })
      const keep = o.keepBody(res.statusCode)
      let text: string | undefined
      if (keep) text = await res.body.text()
      else await res.body.dump()
      sample.status = res.statusCode
      for (const name of o.recordHeaders) {
        const value = res.headers[name]
        if (value !== undefined) {
          sample.headers ??= {}
          sample.headers[name] = String(value)
        }
      }
      if (text !== undefined) sample.body = text.length > BODY_LIMIT ? text.slice(0, BODY_LIMIT) : text
    } catch (error) {
      sample.status = 0
      sample.error = errorCode(error)
    } finally {
      inFlight--
      sample.latencyMs = nowMs() - sample.at
      samples.push(sample)
    }
    return sample
  }

  const inFlightRequests = new Set<Promise<unknown>>()
  const track = (p: Promise<unknown>) => {
    inFlightRequests.add(p)
    void p.finally(() => inFlightRequests.delete(p))
  }

  async function openLoop(rate: number): Promise<void> {
    const tickMs = Math.max(1, Math.min(10, 1000 / rate))
    while (!controller.signal.aborted) {
      const now = nowMs()
      if (now >= deadline) break
      // Every request due by now is started, so a late timer sends a batch instead of lowering the rate.
      const due = Math.floor(((now - startedAt) * rate) / 1000) + 1
      while (next < due) {
        const index = next++
        if (inFlight >= o.maxInFlight) {
          dropped++
          samples.push({ index, at: nowMs(), latencyMs: 0, status: 0, error: DROPPED })
        } else {
          track(send(index))
        }
      }
      await sleep(tickMs)
    }
  }

  async function closedLoop(clients: number): Promise<void> {
    const worker = async () => {
      while (!controller.signal.aborted && nowMs() < deadline) {
        const sample = await send(next++)
        // A refused connection fails in microseconds: pause a little so a down service does not turn the
        // closed loop into a busy loop that starves the services sharing this machine.
        if (sample.status === 0) await sleep(10)
        else if (o.honourRetryAfter) {
          const waitMs = retryAfterMs(sample)
          // Told to come back after the run ends: this client is done. (Sleeping up to the deadline instead
          // let a timer that fired a hair early send one more request.)
          if (nowMs() + waitMs >= deadline) break
          await sleep(waitMs)
        }
      }
    }
    await Promise.all(Array.from({ length: clients }, worker))
  }

  const result = (async (): Promise<LoadResult> => {
    try {
      if (o.ratePerSecond !== undefined) await openLoop(o.ratePerSecond)
      else await closedLoop(o.concurrency!)
      while (inFlightRequests.size > 0) await Promise.all([...inFlightRequests])
    } finally {
      o.signal?.removeEventListener('abort', stopSending)
      await pool.close().catch(() => pool.destroy())
    }
    return {
      mode: o.ratePerSecond !== undefined ? 'rate' : 'concurrency',
      ratePerSecond: o.ratePerSecond,
      concurrency: o.concurrency,
      startedAt,
      endedAt: nowMs(),
      samples,
      dropped,
    }
  })()

  return {
    samples,
    get inFlight() {
      return inFlight
    },
    result,
    stop() {
      stopSending()
      return result
    },
  }
}

/** Runs {@link startLoad} to its end. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return startLoad(options).result
}

/** The sample's `Retry-After` in milliseconds (delay-seconds form; an HTTP date or none counts as 0). */
function retryAfterMs(sample: RequestSample): number {
  const seconds = Number(sample.headers?.['retry-after'])
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0
}
