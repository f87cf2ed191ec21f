// Experiment 5: pool exhaustion. An order-service instance with a pool of 2 under 100 concurrent clients;
// the fault makes every query slow (latency on its own proxy to PostgreSQL), so each order holds a
// connection for a few hundred milliseconds and most callers cannot get one within the pool's acquire
// timeout (2 s). They must get 503 with Retry-After at that moment, not wait on, and nothing may hang.
//
// The clients talk to the instance directly: through the gateway, its breaker would open on the first 503s
// and answer for the order service, hiding the pool's behaviour, which is the point here (the gateway passes
// an order service's 503 and Retry-After on unchanged; the partition experiment shows it).

import {
  check,
  checkInvariants,
  checkOnlyStatuses,
  checkRecoveredWithin,
  checkRetryAfter,
} from '../checks.js'
import type { Experiment } from '../experiment.js'
import type { FaultProxy } from '../fault-proxy.js'
import { percentile, summarize } from '../load-summary.js'
import type { ServiceProcess } from '../stack/service-process.js'
import { verifyOrders } from './order-invariants.js'
import { byProfile, orderLoad, readMetric, type Suite } from './suite.js'

const ACQUIRE_TIMEOUT_MS = 2000
const POOL = { pool_name: 'orders' }

/** 503 with Retry-After at the acquire timeout, p99 bounded, nothing hangs. */
export function poolExhaustion(suite: Suite): Experiment {
  const { stack } = suite
  let proxy: FaultProxy | undefined
  let instance: ServiceProcess | undefined
  let timeoutsBefore = 0
  return {
    name: 'pool-exhaustion',
    expectation:
      'An order-service instance with a pool of 2 under 100 concurrent clients while queries are slow: callers past the acquire timeout (2 s) get 503 with Retry-After at once, p99 stays bounded, nothing hangs; it recovers when queries are fast again.',
    load: () => orderLoad(stack, instance!, { concurrency: 100, timeoutMs: 15_000, honourRetryAfter: true }),
    phases: byProfile(suite, { short: { faultMs: 6000 }, full: { faultMs: 30_000 } }),
    async setup(ctx) {
      proxy = await stack.createDatabaseProxy()
      instance = await stack.addOrderService({
        name: 'order-service-pool-2',
        env: { DATABASE_POOL_MAX: '2' },
        databaseProxy: proxy,
      })
      timeoutsBefore =
        (await readMetric(instance.metricsUrl!, 'db_client_connections_timeouts_total', POOL)) ?? 0
      ctx.log(
        `${instance.name} ready with DATABASE_POOL_MAX=2, PostgreSQL through its own proxy :${proxy.port}`,
      )
    },
    fault(ctx) {
      proxy!.setFault({ mode: 'latency', latencyMs: 50 })
      ctx.log('queries slowed by 50 ms each way')
    },
    heal() {
      proxy!.setFault({ mode: 'none' })
    },
    async verify(ctx, o) {
      const timeouts =
        (await readMetric(instance!.metricsUrl!, 'db_client_connections_timeouts_total', POOL)) ?? 0
      ctx.note('poolTimeouts', timeouts - timeoutsBefore)
      return verifyOrders(stack, o.load?.samples ?? [], { signal: ctx.signal, deliveryTimeoutMs: 60_000 })
    },
    checks(o) {
      const samples = o.load?.samples ?? []
      const inFault = samples.filter(
        (s) => s.at + s.latencyMs >= o.window.faultStartedAt && s.at < o.window.healedAt,
      )
      const rejected = inFault.filter((s) => s.status === 503).map((s) => s.latencyMs)
      rejected.sort((a, b) => a - b)
      const p99Rejected = percentile(rejected, 99)
      const all = summarize(samples)
      const timeouts = (o.notes.poolTimeouts as number | undefined) ?? 0
      return [
        check(
          'the pool is exhausted (acquire timeouts)',
          timeouts > 0 && rejected.length > 0,
          `${timeouts} acquire timeouts, ${rejected.length} answered 503`,
        ),
        checkOnlyStatuses(o.during, [201, 503], 'only 201 or 503 during the fault'),
        checkRetryAfter(samples, { from: o.window.startedAt, to: o.window.endedAt + 1 }),
        // A pool that waits without a limit keeps the 100th caller ~20 s (five orders a second through 2
        // connections); twice the acquire timeout leaves room for a busy machine and still tells them apart.
        check(
          '503 at the acquire timeout, not later (p99 of the 503s <= 4 s)',
          p99Rejected !== undefined && p99Rejected <= 2 * ACQUIRE_TIMEOUT_MS,
          p99Rejected === undefined ? 'no 503' : `p99 of the 503s ${Math.round(p99Rejected)} ms`,
        ),
        check(
          'p99 bounded (<= 5 s) and nothing hangs (max <= 8 s, every request answered)',
          (o.during.p99Ms ?? Number.POSITIVE_INFINITY) <= 5000 &&
            (all.maxMs ?? Number.POSITIVE_INFINITY) <= 8000 &&
            (all.statusCounts['0'] ?? 0) === 0,
          `p99 ${Math.round(o.during.p99Ms ?? 0)} ms, max ${Math.round(all.maxMs ?? 0)} ms, ${all.statusCounts['0'] ?? 0} without answer`,
        ),
        checkRecoveredWithin(o.timeToRecoverMs, 15_000),
        checkInvariants(o.invariants),
      ]
    },
    async teardown() {
      proxy?.setFault({ mode: 'none' })
      await instance?.stop('SIGTERM')
    },
  }
}
