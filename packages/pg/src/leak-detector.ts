import { performance } from 'node:perf_hooks'
import type { LeakReport, PgLogger } from './types.js'

/** One client's current loan. Reused across the loans of one client, so a loan allocates nothing here. */
export interface Loan {
  /** True from the hand-over to the release. */
  held: boolean
  /** performance.now() when the client was handed over. */
  acquiredAt: number
  /** Holds the acquiring stack, captured at acquire but formatted only if the loan is reported. */
  site: { stack?: string } | undefined
  /** `operation` label of the last query run during this loan. */
  operation: string | undefined
  reported: boolean
}

export interface LeakDetectorOptions {
  poolName: string
  leakDetectionMs: number
  logger: PgLogger | undefined
  onLeak: ((report: LeakReport) => void) | undefined
  /** Counts one leak in `db_client_connections_leaks_total`. */
  count: () => void
}

export interface LeakDetector {
  /** Whether acquires should capture their stack. */
  readonly enabled: boolean
  /** Watches the loans of one client, for as long as the client lives. */
  track(loan: Loan): void
  untrack(loan: Loan): void
  close(): void
}

/**
 * Finds loans older than `leakDetectionMs` with one sweep timer per pool rather than one timer per loan:
 * arming and clearing a timer on every acquire would cost the hot path more than everything else this
 * package does there. The sweep visits each client of the pool (at most `max`), registered once when the
 * client is first lent, so an acquire itself only writes a few fields. A leak is reported between
 * `leakDetectionMs` and `leakDetectionMs` plus one sweep interval (a quarter of it, at most one second)
 * after the acquire.
 */
export function createLeakDetector(o: LeakDetectorOptions): LeakDetector {
  if (o.leakDetectionMs === 0) {
    return { enabled: false, track() {}, untrack() {}, close() {} }
  }
  const loans = new Set<Loan>()
  const sweep = () => {
    const now = performance.now()
    for (const loan of loans) {
      if (!loan.held || loan.reported || now - loan.acquiredAt < o.leakDetectionMs) continue
      loan.reported = true
      report(loan, now)
    }
  }
  const report = (loan: Loan, now: number) => {
    const leak: LeakReport = {
      poolName: o.poolName,
      heldMs: Math.round(now - loan.acquiredAt),
      stack: framesOf(loan.site?.stack),
      operation: loan.operation,
    }
    o.count()
    o.logger?.warn(
      { pool_name: leak.poolName, heldMs: leak.heldMs, operation: leak.operation, stack: leak.stack },
      `pg client of pool "${leak.poolName}" held for more than ${o.leakDetectionMs} ms and not released: a leak?`,
    )
    try {
      o.onLeak?.(leak)
    } catch (err) {
      // A broken callback must not stop the sweep, nor crash the process from a timer.
      o.logger?.warn({ err, pool_name: o.poolName }, 'onLeak threw')
    }
  }
  const timer = setInterval(sweep, Math.max(10, Math.min(1000, o.leakDetectionMs / 4)))
  // The sweep must never keep a process alive that has nothing else to do.
  timer.unref()
  return {
    enabled: true,
    track: (loan) => loans.add(loan),
    untrack: (loan) => loans.delete(loan),
    close() {
      clearInterval(timer)
      loans.clear()
    },
  }
}

/** The frames alone: the header line of a captured stack names no error, since there is none. */
function framesOf(stack: string | undefined): string | undefined {
  if (stack === undefined) return undefined
  const start = stack.indexOf('\n')
  return start === -1 ? stack : stack.slice(start + 1)
}
