// Experiment 1: an order-service instance killed with SIGKILL under load (Chaos Mesh: PodChaos
// pod-failure), with one instance behind the gateway and with two.

import {
  check,
  checkErrorRate,
  checkInvariants,
  checkNoStatuses,
  checkOnlyStatuses,
  checkRecoveredWithin,
  checkRetryAfter,
  describeFailures,
  formatRate,
  formatStatuses,
  withObserved,
} from '../checks.js'
import type { Experiment } from '../experiment.js'
import { summarize } from '../load-summary.js'
import type { ServiceProcess } from '../stack/service-process.js'
import { verifyOrders } from './order-invariants.js'
import { byProfile, orderLoad, type Suite } from './suite.js'

/** One instance: only 503 with Retry-After while it is down, recovered within 10 s of the replacement. */
export function killOneInstance(suite: Suite): Experiment {
  const { stack, gatewaySingle: gateway, orderServiceA: instance } = suite
  return {
    name: 'order-service-killed',
    expectation:
      'One order-service instance, SIGKILLed under load: while it is down the gateway answers only 503 with Retry-After (no 502, no 500, no reset); errors are back to zero within 10 s of the replacement being ready.',
    load: orderLoad(stack, gateway),
    ...killAndReplace(suite, instance, ''),
    checks(o) {
      const samples = o.load?.samples ?? []
      const all = summarize(samples)
      return [
        checkOnlyStatuses(o.during, [201, 503], 'only 201 or 503 while it is down'),
        checkNoStatuses(all, [0, 500, 502], 'no 502, 500 or reset at any time'),
        checkRetryAfter(samples, { from: o.window.faultStartedAt, to: o.window.endedAt + 1 }),
        checkRecoveredWithin(o.timeToRecoverMs, 10_000),
        checkInvariants(o.invariants),
      ]
    },
  }
}

/** Two instances: the gateway fails over, and no request fails at all. */
export function killOneOfTwo(suite: Suite): Experiment {
  const { stack, gatewayPair: gateway, orderServiceA: instance } = suite
  return {
    name: 'order-service-killed-of-two',
    expectation:
      'Two order-service instances behind the gateway, one SIGKILLed under load and replaced: zero failed requests.',
    ...killAndReplace(suite, instance, `; ${suite.orderServiceB.name} remains`),
    load: orderLoad(stack, gateway, { keepBody: (status) => status === 201 || status >= 500 }),
    checks(o) {
      const all = summarize(o.load?.samples ?? [])
      return [
        withObserved(
          checkErrorRate(all, 0, 'no failed request (whole run)'),
          all.errors > 0 ? `: ${describeFailures(o.load?.samples ?? [], o.window.faultStartedAt)}` : '',
        ),
        check(
          'every request answered 201',
          all.statusCounts['201'] === all.requests,
          `${formatStatuses(all.statusCounts)} (${formatRate(all.requests - (all.statusCounts['201'] ?? 0), all.requests)} not 201)`,
        ),
        checkInvariants(o.invariants),
      ]
    },
  }
}

/** What both experiments do: SIGKILL the instance, hold, start a replacement; then the invariants. */
function killAndReplace(
  suite: Suite,
  instance: ServiceProcess,
  remains: string,
): Pick<Experiment, 'phases' | 'fault' | 'heal' | 'verify'> {
  return {
    phases: byProfile(suite, { short: { faultMs: 4000 }, full: { faultMs: 20_000 } }),
    async fault(ctx) {
      const exit = await instance.stop('SIGKILL')
      ctx.log(`${instance.name} killed (${exit?.signal ?? 'not running'})${remains}`)
    },
    async heal(ctx) {
      await instance.start()
      // heal() resolves once the replacement is ready: the runner's recovery time starts there.
      ctx.log(`replacement ${instance.name} ready (pid ${instance.pid})`)
    },
    verify: (ctx, o) => verifyOrders(suite.stack, o.load?.samples ?? [], { signal: ctx.signal }),
  }
}
