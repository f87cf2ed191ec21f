// Experiment 4: a rolling restart (Kubernetes: `kubectl rollout restart` with maxUnavailable 0). SIGTERM to
// each order-service instance in turn, then to the worker, each replaced and ready before the next, under
// load through the gateway in front of both instances: zero failed requests.
//
// The gateway itself: with no load balancer in front of two gateways on this machine, a stopped gateway's
// port refuses new connections whatever the gateway does, so "zero failed requests" cannot hold for it
// here (behind a Kubernetes Service, readiness takes it out of rotation before it closes). What a gateway
// owes its clients is that the requests it holds when SIGTERM arrives are answered: the experiment sends
// requests slowed down on purpose (PostgreSQL latency through the proxy), sends SIGTERM to the gateway while
// they are in flight, and checks every one was answered 201 before the gateway exited 0.

import { spawnSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { check, checkErrorRate, checkInvariants, describeFailures, withObserved } from '../checks.js'
import type { Experiment, ExperimentContext } from '../experiment.js'
import { type RequestSample, startLoad } from '../load-driver.js'
import { summarize } from '../load-summary.js'
import type { ServiceProcess } from '../stack/service-process.js'
import { verifyOrders } from './order-invariants.js'
import { orderLoad, type Suite, waitForClosedBreakers } from './suite.js'

/** Longest wait for the gateway to route to a replaced instance before the next one is stopped. */
const GATEWAY_READY_TIMEOUT_MS = 10_000

interface Restart {
  name: string
  code: number | null
  signal: string | null
  forced: boolean
  stopMs: number
  readyMs: number
  /**
   * From the replacement being ready to the gateway routing to it again (its breakers all closed); null when
   * that did not happen within {@link GATEWAY_READY_TIMEOUT_MS}. Absent for the worker, which no gateway calls.
   */
  gatewayRoutesAfterMs?: number | null
  /** When the stop took over 3 s: the TCP connections the process still had then. */
  connectionsAfter3s?: string[]
}

/** Zero failed requests while the order-service instances and the worker restart one at a time. */
export function rollingRestart(suite: Suite): Experiment {
  const { stack } = suite
  const restarts: Restart[] = []
  let drain: { inFlight: number; samples: RequestSample[]; exit: Restart } | undefined

  const restart = async (service: ServiceProcess, ctx: ExperimentContext) => {
    const entry = await restartService(service)
    // A rollout moves on once the new pod is Ready *and* in the Service's endpoints; the gateway's
    // endpoints are its per-instance breakers, which close after its readiness poll (every 2 s) sees the
    // replacement. Stopping the next instance before that leaves the gateway nowhere to send.
    if (service.kind === 'order-service') {
      entry.gatewayRoutesAfterMs =
        (await waitForClosedBreakers(suite.gatewayPair.metricsUrl!, {
          timeoutMs: GATEWAY_READY_TIMEOUT_MS,
          signal: ctx.signal,
        })) ?? null
    }
    restarts.push(entry)
    ctx.note('restarts', restarts)
    ctx.log(
      `${service.name}: SIGTERM, exit ${entry.code ?? entry.signal} after ${entry.stopMs} ms; replacement ready in ${entry.readyMs} ms${entry.gatewayRoutesAfterMs === undefined ? '' : `; ${suite.gatewayPair.name} routes to it ${entry.gatewayRoutesAfterMs === null ? 'not yet after 10 s' : `${entry.gatewayRoutesAfterMs} ms later`}`}`,
    )
  }

  return {
    name: 'rolling-restart',
    expectation:
      'SIGTERM to each order-service instance, then the worker, in turn under load (each replaced and ready before the next): zero failed requests, every process exits 0; a gateway given SIGTERM answers every request it holds before it exits (no second gateway to fail over to here).',
    // Error bodies kept too: their `code` tells a gateway's own 503 from one an instance sent.
    load: orderLoad(stack, suite.gatewayPair, { keepBody: (status) => status === 201 || status >= 500 }),
    // The fault lasts as long as the restarts take; the runner heals as soon as fault() returns.
    phases: { faultMs: 0 },
    async fault(ctx) {
      restarts.length = 0
      for (const service of [suite.orderServiceA, suite.orderServiceB, stack.worker]) {
        await restart(service, ctx)
      }
      drain = await gatewayDrain(suite, ctx)
      ctx.note('gatewayDrain', { inFlight: drain.inFlight, exit: drain.exit })
    },
    heal() {
      stack.pgProxy.setFault({ mode: 'none' })
    },
    verify: (ctx, o) =>
      verifyOrders(stack, [...(o.load?.samples ?? []), ...(drain?.samples ?? [])], { signal: ctx.signal }),
    checks(o) {
      const all = summarize(o.load?.samples ?? [])
      const unclean = restarts.filter((r) => r.code !== 0 || r.forced)
      const drained = drain?.samples.filter((s) => s.status === 201).length ?? 0
      const failures =
        all.errors > 0 ? `: ${describeFailures(o.load?.samples ?? [], o.window.faultStartedAt)}` : ''
      return [
        withObserved(checkErrorRate(all, 0, 'no failed request through the gateway (whole run)'), failures),
        check(
          'each service exits 0 on SIGTERM and is replaced',
          restarts.length === 3 && unclean.length === 0,
          restarts.map((r) => `${r.name} exit ${r.code ?? r.signal} in ${r.stopMs} ms`).join(', '),
        ),
        check(
          'the gateway answers what it holds at SIGTERM',
          drain !== undefined &&
            drain.inFlight > 0 &&
            drained === drain.samples.length &&
            drain.exit.code === 0 &&
            !drain.exit.forced,
          drain
            ? `${drained}/${drain.samples.length} answered 201 (${drain.inFlight} in flight at SIGTERM); exit ${drain.exit.code ?? drain.exit.signal} in ${drain.exit.stopMs} ms`
            : 'not run',
        ),
        checkInvariants(o.invariants),
      ]
    },
    teardown() {
      stack.pgProxy.setFault({ mode: 'none' })
    },
  }
}

/**
 * Slows PostgreSQL down so that orders take a few hundred milliseconds, starts requests through the
 * one-instance gateway, stops sending, and sends SIGTERM while they are in flight.
 */
async function gatewayDrain(suite: Suite, ctx: ExperimentContext) {
  const gateway = suite.gatewaySingle
  suite.stack.pgProxy.setFault({ mode: 'latency', latencyMs: 50 })
  const stopSending = new AbortController()
  const burst = startLoad({
    ...orderLoad(suite.stack, gateway),
    concurrency: 10,
    durationMs: 30_000,
    signal: stopSending.signal,
  })
  await sleep(400)
  stopSending.abort()
  const inFlight = burst.inFlight
  const exit = await restartService(gateway)
  const result = await burst.result
  suite.stack.pgProxy.setFault({ mode: 'none' })
  ctx.log(
    `${gateway.name}: SIGTERM with ${inFlight} requests in flight, exit ${exit.code ?? exit.signal} after ${exit.stopMs} ms; replacement ready in ${exit.readyMs} ms`,
  )
  return { inFlight, samples: result.samples, exit }
}

/** SIGTERM, wait for the exit, start the replacement and wait until it is ready. */
async function restartService(service: ServiceProcess): Promise<Restart> {
  // A shutdown that takes seconds is waiting for something: note the process's open TCP connections then,
  // so the report says what it waited for.
  const pid = service.pid
  let slowStop: string[] | undefined
  const watch = setTimeout(() => {
    slowStop = pid === undefined ? [] : tcpConnectionsOf(pid)
  }, SLOW_STOP_MS)
  const exit = await service.stop('SIGTERM', 15_000)
  clearTimeout(watch)
  const stoppedAt = performance.now()
  await service.start()
  return {
    name: service.name,
    code: exit?.code ?? null,
    signal: exit?.signal ?? null,
    forced: exit?.forced ?? false,
    stopMs: Math.round(exit?.tookMs ?? 0),
    readyMs: Math.round(performance.now() - stoppedAt),
    ...(slowStop ? { connectionsAfter3s: slowStop } : {}),
  }
}

const SLOW_STOP_MS = 3000

/** `ss -tnpo` lines of the process's TCP connections (empty when `ss` is missing). */
function tcpConnectionsOf(pid: number): string[] {
  const ss = spawnSync('ss', ['-tnpo'], { encoding: 'utf8', timeout: 2000 })
  if (ss.status !== 0) return []
  return ss.stdout
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => line.replace(/\s+/g, ' ').trim())
}
