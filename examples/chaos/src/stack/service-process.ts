// One example service as a process the experiments can kill, stop and start again on the same ports: the
// demo's supervisor runs it (own process group, output prefixed with its name, readiness polled), and this
// keeps its spec so that a replacement is the same service with the same environment.

import { setTimeout as sleep } from 'node:timers/promises'
import type { ExitEvent, ServiceHandle, ServiceSpec, Supervisor } from '@goreliable/example-demo'
import type { OrphanGuard } from './orphan-guard.js'

/** The kinds of service in the example stack. */
export type ServiceKind = 'email-provider' | 'order-service' | 'notification-worker' | 'gateway'

/** What a service process reports about its end. */
export interface ServiceExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** True when it did not exit within the time allowed after the signal and was sent SIGKILL. */
  forced: boolean
  /** Milliseconds from the signal to the exit. */
  tookMs: number
}

/** A service of the stack, running or not. */
export interface ServiceProcess {
  readonly name: string
  readonly kind: ServiceKind
  /** Its public base URL (`http://127.0.0.1:PORT`); undefined for the worker, which has no public port. */
  readonly url: string | undefined
  /** Its admin base URL (`/metrics`, `/readyz`); undefined for the email provider, which has none. */
  readonly adminUrl: string | undefined
  /** `/metrics` of the admin port; undefined for the email provider. */
  readonly metricsUrl: string | undefined
  /** Polled until it answers 200 before `start()` resolves. */
  readonly readyUrl: string
  /** The environment it runs with (over the launcher's own). */
  readonly env: Readonly<Record<string, string>>
  /** The pid of the current process; undefined before the first start. */
  readonly pid: number | undefined
  readonly running: boolean
  /** True from a `stop()` until the next `start()`: an exit now is not a crash. */
  readonly exitExpected: boolean
  /** Starts it (again) with the same ports and environment; resolves when it is ready. */
  start(): Promise<void>
  /** Sends `signal` to its process group and waits for the exit; SIGKILL after `timeoutMs`. No-op when not running. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ServiceExit | undefined>
  /** Its last lines of output. */
  recentOutput(): string[]
}

/** How to run one service: the supervisor's spec and the URLs that go with it. */
export interface ServiceProcessSpec extends ServiceSpec {
  kind: ServiceKind
  url: string | undefined
  adminUrl: string | undefined
  readyUrl: string
  env: Record<string, string>
}

/**
 * Wraps a supervisor spec into a {@link ServiceProcess}; nothing runs until `start()`. Each process it starts
 * is reported to `guard` (and withdrawn when it exits), so that it is stopped even if this process dies.
 */
export function createServiceProcess(
  supervisor: Supervisor,
  spec: ServiceProcessSpec,
  guard?: OrphanGuard,
): ServiceProcess {
  let handle: ServiceHandle | undefined
  let starting: Promise<void> | undefined
  let exitExpected = false
  return {
    name: spec.name,
    kind: spec.kind,
    url: spec.url,
    adminUrl: spec.adminUrl,
    metricsUrl: spec.adminUrl && `${spec.adminUrl}/metrics`,
    readyUrl: spec.readyUrl,
    env: spec.env,
    get pid() {
      return handle?.pid
    },
    get running() {
      return handle?.running ?? false
    },
    get exitExpected() {
      return exitExpected
    },
    start() {
      if (handle?.running) return starting ?? Promise.resolve()
      exitExpected = false
      starting = supervisor.start(spec).then((h) => {
        handle = h
      })
      // The supervisor spawns before its first await, so the new entry is already listed: guard it now,
      // not once it is ready (the command may die while it starts).
      const spawned = supervisor.services().at(-1)
      if (guard && spawned?.name === spec.name && spawned.pid !== undefined) {
        const pid = spawned.pid
        guard.add(pid)
        void spawned.exited.then(() => guard.remove(pid))
      }
      return starting
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      const h = handle
      if (!h?.running || h.pid === undefined) return undefined
      exitExpected = true
      const sentAt = performance.now()
      signalGroup(h.pid, signal)
      // Cancelled once the race is decided: a pending timer would keep the command alive after the run.
      const timer = new AbortController()
      const timedOut = sleep(timeoutMs, true, { signal: timer.signal }).catch(() => false)
      const first = await Promise.race([h.exited, timedOut])
      timer.abort()
      let event: ExitEvent
      let forced = false
      if (first === true || first === false) {
        signalGroup(h.pid, 'SIGKILL')
        event = await h.exited
        forced = true
      } else {
        event = first
      }
      return { code: event.code, signal: event.signal, forced, tookMs: performance.now() - sentAt }
    },
    recentOutput: () => handle?.recentOutput() ?? [],
  }
}

// The supervisor starts each service in a process group of its own (detached), so the group is exactly
// the service and whatever it started; the pid is one this process spawned and still holds.
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
  }
}
