// What the experiments share: the stack, the profile, the order load through a gateway, and small readers of
// a service's /metrics and readiness.

import { setTimeout as sleep } from 'node:timers/promises'
import { nowMs } from '../clock.js'
import type { LoadSpec } from '../experiment.js'
import { orderRequests } from '../order-requests.js'
import type { ProfileName } from '../profiles.js'
import { parsePrometheusText, sumSeries } from '../prometheus-text.js'
import type { ChaosStack } from '../stack/chaos-stack.js'
import type { ServiceProcess } from '../stack/service-process.js'

/** The stack and the choices every experiment reads. */
export interface Suite {
  stack: ChaosStack
  profile: ProfileName
  /** One order-service instance behind it. */
  gatewaySingle: ServiceProcess
  /** Both instances behind it. */
  gatewayPair: ServiceProcess
  orderServiceA: ServiceProcess
  orderServiceB: ServiceProcess
}

/** Names of the processes the chaos suite starts. */
export const SUITE_SERVICES = {
  orderServiceA: 'order-service-a',
  orderServiceB: 'order-service-b',
  gatewaySingle: 'gateway-single',
  gatewayPair: 'gateway-pair',
} as const

/** `short` or `full`: the value of the profile in force. */
export function byProfile<T>(suite: Suite, values: { short: T; full: T }): T {
  return values[suite.profile]
}

/** Orders through `service` (a gateway, or an order-service instance directly): 201 bodies kept for the ids. */
export function orderLoad(
  stack: ChaosStack,
  service: ServiceProcess,
  extra: Partial<LoadSpec> = {},
): LoadSpec {
  return {
    url: `${service.url}/api/v1/orders`,
    request: orderRequests({ token: () => stack.token() }),
    keepBody: (status) => status === 201,
    recordHeaders: ['retry-after'],
    timeoutMs: 10_000,
    ...extra,
  }
}

/** The sum of the series of `name` matching `labels` in a service's /metrics; undefined when unreadable. */
export async function readMetric(
  metricsUrl: string,
  name: string,
  labels?: Record<string, string>,
): Promise<number | undefined> {
  try {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(3000) })
    if (res.status !== 200) return undefined
    return sumSeries(parsePrometheusText(await res.text()), name, labels)
  } catch {
    return undefined
  }
}

/** The status of `GET url` (0 when there was no answer within `timeoutMs`). */
export async function probe(url: string, timeoutMs = 1000): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    await res.arrayBuffer().catch(() => undefined)
    return res.status
  } catch {
    return 0
  }
}

/**
 * Polls `url` every `intervalMs` until it stops answering 200, and records when: for "readiness fails within
 * 10 s". Returns a stop function that resolves with the moment, or undefined when it never failed.
 */
export function watchUntilNotReady(url: string, intervalMs = 200): () => Promise<number | undefined> {
  let stopped = false
  let failedAt: number | undefined
  const loop = (async () => {
    while (!stopped && failedAt === undefined) {
      // A probe that does not answer within 1 s fails, as a kubelet's probe with timeoutSeconds: 1 does.
      const status = await probe(url, 1000)
      if (status !== 200) failedAt = nowMs()
      else await sleep(intervalMs)
    }
  })()
  return async () => {
    stopped = true
    await loop
    return failedAt
  }
}

/**
 * Polls a gateway's /metrics until none of its breakers is open or half-open, for up to `timeoutMs`: the
 * moment it routes to every instance again. Resolves with the milliseconds waited, or undefined at the limit.
 */
export async function waitForClosedBreakers(
  metricsUrl: string,
  options: { timeoutMs: number; signal?: AbortSignal; intervalMs?: number },
): Promise<number | undefined> {
  const started = nowMs()
  while (nowMs() - started < options.timeoutMs && !options.signal?.aborted) {
    const [open, halfOpen] = await Promise.all([
      readMetric(metricsUrl, 'circuit_breaker_state', { state: 'open' }),
      readMetric(metricsUrl, 'circuit_breaker_state', { state: 'half_open' }),
    ])
    if (open === 0 && halfOpen === 0) return Math.round(nowMs() - started)
    await sleep(options.intervalMs ?? 100)
  }
  return undefined
}
