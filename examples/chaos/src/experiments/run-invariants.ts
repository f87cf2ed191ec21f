// The last row of the report: the invariants over the whole run, after every fault has healed. Every order
// in the database (answered 201 or not, whichever experiment made it) has exactly one delivered
// notification, the outbox empties, and nothing went to the dead-letter subject.

import { setTimeout as sleep } from 'node:timers/promises'
import { check, checkInvariants } from '../checks.js'
import { nowMs } from '../clock.js'
import type { Experiment } from '../experiment.js'
import type { OutboxBacklog } from '../stack/stack-database.js'
import { deadLetterCount } from '../stack/stream-counts.js'
import { waitForNotifications } from './order-invariants.js'
import type { Suite } from './suite.js'

/** The relay's claim lease (30 s) and two of its polls. */
const OUTBOX_WAIT_MS = 45_000

/** A row with no fault of its own: the run's records checked once everything has healed. */
export function runInvariants(suite: Suite): Experiment {
  const { stack } = suite
  return {
    name: 'run-invariants',
    expectation:
      'After every experiment: each order in the database has exactly one delivered notification, the outbox empties, nothing is on the dead-letter subject.',
    load: null,
    phases: { warmupMs: 0, faultMs: 0, minRecoverMs: 0, recoverMs: 0 },
    fault() {},
    heal() {},
    async verify(ctx) {
      const orders = await stack.db.allOrders()
      const ids = [...new Set(orders.map((o) => o.id))]
      const delivery = await waitForNotifications(stack, ids, {
        signal: ctx.signal,
        deliveryTimeoutMs: 60_000,
      })
      const list = await stack.providerClient.messages()
      const orderIds = new Set(ids)
      const stray = list.messages.filter((m) => !orderIds.has(m.idempotencyKey)).length
      ctx.note('deadLetters', await deadLetterCount(stack.natsUrl))
      // A relay stopped in the middle of a round (an instance killed or restarted) leaves its claimed rows
      // to the others once their lease (30 s) runs out: wait for that rather than read one moment.
      const started = nowMs()
      // What holds the rows back, for the report: claims (a relay stopped or failed mid-round) or errors.
      const backlog = await stack.db.outboxBacklog()
      if (backlog.pending > 0) ctx.note('outboxBacklogAtStart', backlog)
      let pending = backlog.pending
      while (pending > 0 && nowMs() - started < OUTBOX_WAIT_MS && !ctx.signal.aborted) {
        await sleep(500)
        pending = await stack.db.pendingOutbox()
      }
      ctx.note('outboxPending', pending)
      ctx.note('outboxWaitMs', Math.round(nowMs() - started))
      ctx.note('providerReplays', list.stats.replayed)
      return {
        lost: delivery.missing,
        duplicated: delivery.duplicated + stray,
        details: `${ids.length} orders, ${ids.length - delivery.missing} notified, max ${delivery.maxAttempts} attempts for one, ${list.stats.replayed} retries answered by the provider's idempotency`,
      }
    },
    checks(o) {
      const n = o.notes as Record<string, number | undefined>
      const backlog = o.notes.outboxBacklogAtStart as OutboxBacklog | undefined
      const held = backlog
        ? ` (${backlog.pending} unpublished at first, ${backlog.claimed} under a relay's claim${backlog.lastErrors.length ? `, last error: ${backlog.lastErrors.join(' / ')}` : ''})`
        : ''
      return [
        checkInvariants(o.invariants),
        check(
          'the outbox empties',
          n.outboxPending === 0,
          n.outboxPending === 0
            ? `empty${(n.outboxWaitMs ?? 0) > 1000 ? ` after ${((n.outboxWaitMs ?? 0) / 1000).toFixed(0)} s${held}` : ''}`
            : `${n.outboxPending} rows unpublished after ${((n.outboxWaitMs ?? 0) / 1000).toFixed(0)} s${held}`,
        ),
        check('nothing on the dead-letter subject', n.deadLetters === 0, `${n.deadLetters} dead letters`),
      ]
    },
  }
}
