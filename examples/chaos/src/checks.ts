// Builders for the usual expectations of a chaos experiment, each returning what it observed in words a
// person reads in the report. An experiment's `checks()` returns a list of these.

import type { CheckResult, InvariantReport } from './experiment.js'
import type { RequestSample } from './load-driver.js'
import { isServerError, type LoadSummary } from './load-summary.js'

/** A check from a condition and what was observed. */
export function check(name: string, pass: boolean, observed: string): CheckResult {
  return { name, pass, observed }
}

/** `503×80, 0×2`: statuses by count, most frequent first; `none` when empty. */
export function formatStatuses(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0]))
  return entries.length ? entries.map(([status, n]) => `${status}×${n}`).join(', ') : 'none'
}

/** `2.5% (5/200)`. */
export function formatRate(errors: number, requests: number): string {
  const pct = requests === 0 ? 0 : (errors * 100) / requests
  return `${pct < 10 && pct > 0 ? pct.toFixed(1) : Math.round(pct)}% (${errors}/${requests})`
}

/** Error rate at most `max` (0 to 1): `checkErrorRate(observed.during, 0)` for "zero failed requests". */
export function checkErrorRate(summary: LoadSummary, max: number, name?: string): CheckResult {
  return check(
    name ?? (max === 0 ? 'no failed request' : `error rate <= ${max * 100}%`),
    summary.errorRate <= max,
    formatRate(summary.errors, summary.requests),
  )
}

/** Every status seen is one of `allowed` (`0` stands for no answer at all). */
export function checkOnlyStatuses(
  summary: LoadSummary,
  allowed: readonly number[],
  name?: string,
): CheckResult {
  const unexpected = Object.keys(summary.statusCounts).filter((s) => !allowed.includes(Number(s)))
  return check(
    name ?? `only ${allowed.join('/')}`,
    unexpected.length === 0,
    formatStatuses(summary.statusCounts),
  )
}

/** None of `forbidden` was seen: `checkNoStatuses(observed.during, [0, 500, 502])`. */
export function checkNoStatuses(
  summary: LoadSummary,
  forbidden: readonly number[],
  name?: string,
): CheckResult {
  const seen = forbidden.filter((s) => (summary.statusCounts[s] ?? 0) > 0)
  return check(name ?? `no ${forbidden.join('/')}`, seen.length === 0, formatStatuses(summary.statusCounts))
}

/** Every answer with `status` (503 by default) carried a `Retry-After` header (record it with the driver's `recordHeaders`). */
export function checkRetryAfter(
  samples: readonly RequestSample[],
  window: { from: number; to: number },
  status = 503,
): CheckResult {
  const answers = samples.filter((s) => s.status === status && s.at >= window.from && s.at < window.to)
  const missing = answers.filter((s) => s.headers?.['retry-after'] === undefined).length
  return check(
    `every ${status} has Retry-After`,
    missing === 0,
    answers.length === 0 ? `no ${status}` : `${answers.length - missing}/${answers.length} with Retry-After`,
  )
}

/** Recovered (sustained success) within `maxMs` of the heal. */
export function checkRecoveredWithin(timeToRecoverMs: number | null, maxMs: number): CheckResult {
  return check(
    `recovered within ${maxMs / 1000} s`,
    timeToRecoverMs !== null && timeToRecoverMs <= maxMs,
    timeToRecoverMs === null ? 'did not recover while observed' : `${(timeToRecoverMs / 1000).toFixed(1)} s`,
  )
}

/** Nothing lost, nothing duplicated. */
export function checkInvariants(invariants: InvariantReport | undefined): CheckResult {
  if (!invariants) return check('nothing lost or duplicated', false, 'not verified')
  return check(
    'nothing lost or duplicated',
    invariants.lost === 0 && invariants.duplicated === 0,
    `${invariants.lost} lost, ${invariants.duplicated} duplicated${invariants.details ? ` (${invariants.details})` : ''}`,
  )
}

/**
 * The time from `from` to the first sample satisfying `predicate` (epoch ms in, ms out), or null: for "the
 * gateway answers 503 within 10 s of the partition".
 */
export function firstSampleAfter(
  samples: readonly RequestSample[],
  from: number,
  predicate: (s: RequestSample) => boolean,
): number | null {
  let best: number | null = null
  for (const s of samples) {
    if (s.at >= from && predicate(s) && (best === null || s.at < best)) best = s.at
  }
  return best === null ? null : best - from
}

/** The check with `more` appended to what it observed. */
export function withObserved(result: CheckResult, more: string): CheckResult {
  return { ...result, observed: `${result.observed}${more}` }
}

/**
 * The first `max` failed requests, for a report: status (or error) with the `code` of a JSON error body when
 * it was kept, and when each was sent relative to `since` ("503 GR_ERR_BREAKER_OPEN at +2.9 s").
 */
export function describeFailures(samples: readonly RequestSample[], since: number, max = 5): string {
  const failed = samples.filter(isServerError).sort((a, b) => a.at - b.at)
  const shown = failed.slice(0, max).map((s) => {
    const what = s.status === 0 ? (s.error ?? 'no answer') : `${s.status}${bodyCode(s.body)}`
    return `${what} at ${s.at >= since ? '+' : ''}${((s.at - since) / 1000).toFixed(1)} s`
  })
  return `${shown.join(', ')}${failed.length > max ? `, ${failed.length - max} more` : ''}`
}

function bodyCode(body: string | undefined): string {
  if (!body) return ''
  try {
    const code = (JSON.parse(body) as { code?: unknown }).code
    return typeof code === 'string' ? ` ${code}` : ''
  } catch {
    return ''
  }
}
