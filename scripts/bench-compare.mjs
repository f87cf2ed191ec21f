// Shared by every package's `npm run bench`: interleaved A/B measurement that reports a ratio.
//
// This machine's speed drifts by up to half within minutes, so an absolute number from one moment says
// little. Baseline and candidate therefore take turns in short rounds, and the reported figure is the
// median over rounds of candidate/baseline, each round measuring both under the same conditions.
//
// Rounds come in pairs, baseline first in one and candidate first in the other, and each pair contributes
// the geometric mean of its two ratios. Whatever runs first in a round has a systematic edge or handicap
// here (a bare-vs-bare pg comparison read 1.044 over 41 single rounds); a pair cancels that factor exactly,
// while single rounds of both orders make a two-humped distribution whose median lands anywhere between.

import { performance } from 'node:perf_hooks'

/**
 * @param {object} o
 * @param {string} o.title what is compared, printed with the result
 * @param {() => Promise<number>|number} o.baseline runs one round, returns its throughput (ops per second)
 * @param {() => Promise<number>|number} o.candidate same for the candidate
 * @param {number} [o.rounds] rounds of each (rounded up to whole pairs), alternating which goes first
 * @param {number} [o.min] the ratio the issue asks for, printed as pass/fail
 * @param {string} o.command how to rerun this comparison alone
 * @param {'higher'|'lower'} [o.better] whether a higher throughput ratio is better (default) or a lower cost
 */
export async function compare(o) {
  // Whole pairs only: an odd count would leave one order unmatched.
  const rounds = 2 * Math.ceil((o.rounds ?? 7) / 2)
  const ratios = []
  const base = []
  const cand = []
  for (let r = 0; r < rounds; r += 2) {
    const b1 = await o.baseline()
    const c1 = await o.candidate()
    const c2 = await o.candidate()
    const b2 = await o.baseline()
    base.push(b1, b2)
    cand.push(c1, c2)
    ratios.push(Math.sqrt((c1 / b1) * (c2 / b2)))
  }
  const ratio = median(ratios)
  const verdict = o.min === undefined ? '' : ratio >= o.min ? `  PASS (>= ${o.min})` : `  FAIL (< ${o.min})`
  console.log(
    `${o.title}: ratio ${ratio.toFixed(3)}${verdict}\n` +
      `  baseline median ${fmt(median(base))}, candidate median ${fmt(median(cand))}, ${rounds} interleaved rounds\n` +
      `  rerun: ${o.command}`,
  )
  return { ratio, pass: o.min === undefined || ratio >= o.min }
}

/** Runs `fn` repeatedly for about `ms` milliseconds and returns calls per second. Awaits when fn is async. */
export async function opsPerSecond(fn, ms = 300) {
  // warm up so the JIT has compiled both sides before any round counts
  for (let i = 0; i < 2000; i++) await fn()
  let n = 0
  const start = performance.now()
  let now = start
  while (now - start < ms) {
    for (let i = 0; i < 1000; i++) await fn()
    n += 1000
    now = performance.now()
  }
  return (n * 1000) / (now - start)
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

function fmt(x) {
  return x >= 1000 ? `${Math.round(x).toLocaleString('en-US')}/s` : `${x.toPrecision(4)}`
}
