// The capacity chart as a standalone SVG: throughput (left axis) and p99 latency (right axis) against the
// offered load, with the p99 threshold and the maximum sustained rate marked. Written by hand: a chart
// library would be the package's largest dependency for two lines and four axes.

import type { CapacityResult } from './capacity.js'

/** Options of {@link renderCapacityChart}. */
export interface CapacityChartOptions {
  /** @default 'Capacity: throughput and p99 latency against offered load' */
  title?: string
  /** @default 760 */
  width?: number
  /** @default 440 */
  height?: number
}

const THROUGHPUT_COLOR = '#1f6fb4'
const P99_COLOR = '#d9480f'

/** Renders the chart of a capacity run as an SVG document. */
export function renderCapacityChart(result: CapacityResult, options: CapacityChartOptions = {}): string {
  const width = options.width ?? 760
  const height = options.height ?? 440
  const title = options.title ?? 'Capacity: throughput and p99 latency against offered load'
  const m = { left: 72, right: 76, top: 56, bottom: 64 }
  const plotW = width - m.left - m.right
  const plotH = height - m.top - m.bottom
  const steps = result.steps

  const xMax = niceCeil(Math.max(1, ...steps.map((s) => s.offeredRatePerSecond)))
  const yMax = niceCeil(
    Math.max(1, ...steps.map((s) => Math.max(s.achievedPerSecond, s.offeredRatePerSecond))),
  )
  const p99s = steps.flatMap((s) => (s.p99Ms === undefined ? [] : [s.p99Ms]))
  const y2Max = niceCeil(Math.max(result.thresholds.p99Ms * 1.2, ...p99s))
  const x = (v: number) => m.left + (v / xMax) * plotW
  const y = (v: number) => m.top + plotH - (v / yMax) * plotH
  const y2 = (v: number) => m.top + plotH - (Math.min(v, y2Max) / y2Max) * plotH

  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600">${esc(title)}</text>`,
  )

  // Grid and ticks.
  for (const t of ticks(xMax)) {
    out.push(
      `<line x1="${f(x(t))}" y1="${m.top}" x2="${f(x(t))}" y2="${m.top + plotH}" stroke="#eeeeee"/>`,
      `<text x="${f(x(t))}" y="${m.top + plotH + 18}" text-anchor="middle">${fmt(t)}</text>`,
    )
  }
  for (const t of ticks(yMax)) {
    out.push(
      `<line x1="${m.left}" y1="${f(y(t))}" x2="${m.left + plotW}" y2="${f(y(t))}" stroke="#eeeeee"/>`,
      `<text x="${m.left - 8}" y="${f(y(t) + 4)}" text-anchor="end" fill="${THROUGHPUT_COLOR}">${fmt(t)}</text>`,
    )
  }
  for (const t of ticks(y2Max)) {
    out.push(`<text x="${m.left + plotW + 8}" y="${f(y2(t) + 4)}" fill="${P99_COLOR}">${fmt(t)}</text>`)
  }

  // Axes and their labels.
  out.push(
    `<line x1="${m.left}" y1="${m.top + plotH}" x2="${m.left + plotW}" y2="${m.top + plotH}" stroke="#333333"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + plotH}" stroke="${THROUGHPUT_COLOR}"/>`,
    `<line x1="${m.left + plotW}" y1="${m.top}" x2="${m.left + plotW}" y2="${m.top + plotH}" stroke="${P99_COLOR}"/>`,
    `<text x="${m.left + plotW / 2}" y="${height - 20}" text-anchor="middle">offered load (requests/s)</text>`,
    `<text transform="translate(20 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="${THROUGHPUT_COLOR}">throughput (successful requests/s)</text>`,
    `<text transform="translate(${width - 16} ${m.top + plotH / 2}) rotate(90)" text-anchor="middle" fill="${P99_COLOR}">p99 latency (ms)</text>`,
  )

  // Ideal throughput (everything offered is served), the p99 threshold and the maximum sustained rate.
  out.push(
    `<line x1="${f(x(0))}" y1="${f(y(0))}" x2="${f(x(Math.min(xMax, yMax)))}" y2="${f(y(Math.min(xMax, yMax)))}" stroke="#bbbbbb" stroke-dasharray="2 4"/>`,
    `<line x1="${m.left}" y1="${f(y2(result.thresholds.p99Ms))}" x2="${m.left + plotW}" y2="${f(y2(result.thresholds.p99Ms))}" stroke="${P99_COLOR}" stroke-dasharray="6 4" opacity="0.7"/>`,
    `<text x="${m.left + plotW - 6}" y="${f(y2(result.thresholds.p99Ms) - 6)}" text-anchor="end" fill="${P99_COLOR}">p99 threshold ${fmt(result.thresholds.p99Ms)} ms</text>`,
  )
  if (result.maxSustainedRatePerSecond !== null) {
    const mx = x(result.maxSustainedRatePerSecond)
    out.push(
      `<line x1="${f(mx)}" y1="${m.top}" x2="${f(mx)}" y2="${m.top + plotH}" stroke="#555555" stroke-dasharray="4 4"/>`,
      `<text x="${f(mx + 6)}" y="${m.top + 14}" fill="#555555">max sustained ${fmt(result.maxSustainedRatePerSecond)} req/s</text>`,
    )
  }

  // The two series.
  const line = (points: [number, number][], color: string, name: string) => {
    if (points.length === 0) return
    out.push(
      `<polyline data-series="${name}" fill="none" stroke="${color}" stroke-width="2.5" points="${points.map(([a, b]) => `${f(a)},${f(b)}`).join(' ')}"/>`,
      ...points.map(([a, b]) => `<circle cx="${f(a)}" cy="${f(b)}" r="3.5" fill="${color}"/>`),
    )
  }
  line(
    steps.map((s) => [x(s.offeredRatePerSecond), y(s.achievedPerSecond)]),
    THROUGHPUT_COLOR,
    'throughput',
  )
  line(
    steps.flatMap((s) =>
      s.p99Ms === undefined ? [] : [[x(s.offeredRatePerSecond), y2(s.p99Ms)] as [number, number]],
    ),
    P99_COLOR,
    'p99',
  )

  // Legend.
  const lx = m.left + 12
  const ly = m.top + 12
  out.push(
    `<rect x="${lx - 6}" y="${ly - 10}" width="190" height="44" fill="#ffffff" stroke="#dddddd"/>`,
    `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${THROUGHPUT_COLOR}" stroke-width="2.5"/>`,
    `<text x="${lx + 30}" y="${ly + 4}">throughput (left axis)</text>`,
    `<line x1="${lx}" y1="${ly + 20}" x2="${lx + 24}" y2="${ly + 20}" stroke="${P99_COLOR}" stroke-width="2.5"/>`,
    `<text x="${lx + 30}" y="${ly + 24}">p99 latency (right axis)</text>`,
    '</svg>',
  )
  return `${out.join('\n')}\n`
}

/** The smallest 1, 2, 2.5 or 5 times a power of ten at or above `v`. */
export function niceCeil(v: number): number {
  if (v <= 0) return 1
  const power = 10 ** Math.floor(Math.log10(v))
  for (const k of [1, 2, 2.5, 5, 10]) if (k * power >= v) return k * power
  return 10 * power
}

function ticks(max: number): number[] {
  return Array.from({ length: 6 }, (_, i) => (max * i) / 5)
}

function f(v: number): string {
  return (Math.round(v * 10) / 10).toString()
}

function fmt(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(1)
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
