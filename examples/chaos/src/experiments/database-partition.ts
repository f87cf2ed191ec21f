// Experiment 2: a network partition between the order service and PostgreSQL (Chaos Mesh: NetworkChaos
// partition), made by the fault proxy in `blackhole` mode: connections hang, as they do when packets drop.

import {
  check,
  checkInvariants,
  checkNoStatuses,
  checkRecoveredWithin,
  checkRetryAfter,
  firstSampleAfter,
} from '../checks.js'
import type { Experiment } from '../experiment.js'
import { summarize } from '../load-summary.js'
import { verifyOrders } from './order-invariants.js'
import { byProfile, orderLoad, type Suite, watchUntilNotReady } from './suite.js'

/** Readiness fails within 10 s, the gateway answers 503 with Retry-After and never 502, recovery within 15 s. */
export function databasePartition(suite: Suite): Experiment {
  const { stack, gatewaySingle: gateway, orderServiceA: instance } = suite
  let stopWatching: (() => Promise<number | undefined>) | undefined
  return {
    name: 'postgres-partition',
    expectation:
      "Partition between the order service and PostgreSQL: the order service's readiness fails within 10 s; the gateway answers 503 with Retry-After, never 502; after the partition heals, orders succeed again within 15 s.",
    load: orderLoad(stack, gateway),
    // Long enough to see readiness fail at its 10 s limit while the partition still lasts.
    phases: byProfile(suite, { short: { faultMs: 11_000 }, full: { faultMs: 30_000 } }),
    fault(ctx) {
      stack.pgProxy.setFault({ mode: 'blackhole' })
      stopWatching = watchUntilNotReady(instance.readyUrl)
      ctx.log(`PostgreSQL black-holed for every order-service instance (proxy :${stack.pgProxy.port})`)
    },
    async heal(ctx) {
      stack.pgProxy.setFault({ mode: 'none' })
      const failedAt = await stopWatching?.()
      if (failedAt !== undefined) ctx.mark('readinessFailed', failedAt)
      ctx.log('partition healed')
    },
    verify: (ctx, o) => verifyOrders(stack, o.load?.samples ?? [], { signal: ctx.signal }),
    checks(o) {
      const samples = o.load?.samples ?? []
      const failedAfter =
        o.marks.readinessFailed === undefined ? undefined : o.marks.readinessFailed - o.window.faultStartedAt
      const first503 = firstSampleAfter(samples, o.window.faultStartedAt, (s) => s.status === 503)
      const fromFault = summarize(samples, { from: o.window.faultStartedAt, include: 'overlapping' })
      return [
        check(
          'readiness fails within 10 s',
          failedAfter !== undefined && failedAfter <= 10_000,
          failedAfter === undefined
            ? `/readyz still 200 when the partition healed`
            : `failed after ${(failedAfter / 1000).toFixed(1)} s`,
        ),
        check(
          'the gateway answers 503 during the partition',
          first503 !== null && first503 < o.window.healStartedAt - o.window.faultStartedAt,
          first503 === null ? 'no 503' : `first 503 ${(first503 / 1000).toFixed(1)} s after the partition`,
        ),
        checkNoStatuses(fromFault, [0, 500, 502], 'never 502 (nor 500, nor no answer)'),
        checkRetryAfter(samples, { from: o.window.faultStartedAt, to: o.window.endedAt + 1 }),
        checkRecoveredWithin(o.timeToRecoverMs, 15_000),
        checkInvariants(o.invariants),
      ]
    },
    teardown() {
      stack.pgProxy.setFault({ mode: 'none' })
    },
  }
}
