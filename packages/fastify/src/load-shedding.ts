import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { registerOnce } from '@goreliable/core'
import type { onRequestHookHandler } from 'fastify'
import { Counter, type Registry } from 'prom-client'
import { sendError } from './error-reply.js'
import { FastifyErrorCodes } from './errors.js'

/** Why a request was shed: the `reason` label of `http_requests_shed_total`. */
export type ShedReason = 'event_loop_delay' | 'event_loop_utilization'

const SHED_METRIC = 'http_requests_shed_total'
const REASONS: readonly ShedReason[] = ['event_loop_delay', 'event_loop_utilization']
const SHED_MESSAGE = 'The server is overloaded; retry later'
/** Resolution of the delay monitor, in ms; the monitor's mean includes it, so it is subtracted. */
const RESOLUTION_MS = 10

export interface LoadShedderOptions {
  maxEventLoopDelayMs: number | undefined
  maxEventLoopUtilization: number | undefined
  retryAfterSeconds: number
  sampleIntervalMs: number
  registry: Registry
}

export interface LoadShedder {
  /** Answers 503 while the last sample was over a limit; otherwise lets the request through. */
  onRequest: onRequestHookHandler
  /** Why requests are shed now, or undefined while they are not. */
  readonly reason: ShedReason | undefined
  close(): void
}

/**
 * Sheds load while the event loop is over its limits.
 *
 * The event loop is measured on an unref'd timer, never per request: every `sampleIntervalMs` the mean delay
 * and the utilization since the previous sample decide whether the next interval's requests are shed, so a
 * request reads one variable. A loop blocked for seconds cannot run the timer either; the first sample after
 * the block sees the delay and sheds from then on, until a sample is back under the limits.
 */
export function createLoadShedder(o: LoadShedderOptions): LoadShedder {
  const shed = registerOnce(
    o.registry,
    SHED_METRIC,
    () =>
      new Counter({
        name: SHED_METRIC,
        help: 'HTTP requests answered 503 by load shedding, by the limit that was exceeded.',
        labelNames: ['reason'] as const,
        registers: [],
      }),
  ) as Counter<'reason'>
  // Both series exist from the start, so `rate()` and alerts see a 0, not an absent series.
  for (const reason of REASONS) shed.inc({ reason }, 0)

  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  delay.enable()
  let lastElu = performance.eventLoopUtilization()
  let reason: ShedReason | undefined

  const sample = () => {
    const meanMs = delay.count > 0 ? Math.max(0, delay.mean / 1e6 - RESOLUTION_MS) : 0
    delay.reset()
    const elu = performance.eventLoopUtilization()
    const utilization = performance.eventLoopUtilization(elu, lastElu).utilization
    lastElu = elu
    if (o.maxEventLoopDelayMs !== undefined && meanMs > o.maxEventLoopDelayMs) reason = 'event_loop_delay'
    else if (o.maxEventLoopUtilization !== undefined && utilization > o.maxEventLoopUtilization) {
      reason = 'event_loop_utilization'
    } else reason = undefined
  }
  const timer = setInterval(sample, o.sampleIntervalMs).unref()

  const onRequest: onRequestHookHandler = (request, reply, done) => {
    if (reason === undefined || request.routeOptions.config.goreliable?.shedding === false) {
      done()
      return
    }
    // No Error object: shedding is when the process can least afford to capture stack traces.
    shed.inc({ reason })
    sendError(reply, 503, FastifyErrorCodes.OVERLOADED, SHED_MESSAGE, o.retryAfterSeconds)
  }

  return {
    onRequest,
    get reason() {
      return reason
    },
    close() {
      clearInterval(timer)
      delay.disable()
    },
  }
}
