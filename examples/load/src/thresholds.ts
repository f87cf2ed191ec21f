// The k6 script's thresholds, evaluated on what the autocannon run measured.

/** What a run measured, for the order requests (the token requests of set-up are not counted). */
export interface LoadStats {
  /** Order requests that ended: with a response, or with a connection error or timeout. */
  requests: number
  /** Of those, the ones k6 counts in `http_req_failed`: no response, or a status outside 200–399. */
  failedRequests: number
  /** Order attempts that did not create an order: any status but 201, or a body without an `id`. */
  orderErrors: number
  /** Response times in ms of the requests that got a response (`http_req_duration`). */
  durationsMs: number[]
  /** Responses per status code, and `error` for requests without a response. */
  statuses: Record<string, number>
  /** Wall time of the load, in seconds. */
  elapsedSeconds: number
}

/** One threshold's verdict. */
export interface ThresholdResult {
  /** k6's metric name. */
  metric: string
  /** k6's expression, such as `rate<0.01`. */
  expression: string
  /** The measured value, formatted (`0.20%`, `123.4 ms`), or why there is none. */
  actual: string
  /** The bound, formatted (`1%`, `500 ms`). */
  limit: string
  pass: boolean
}

/** The thresholds of examples/load/k6/orders.js. */
export const thresholds = [
  { metric: 'http_req_failed', expression: 'rate<0.01' },
  { metric: 'http_req_duration', expression: 'p(99)<500' },
  { metric: 'order_errors', expression: 'rate<0.005' },
] as const

const MAX_FAILED_RATE = 0.01
const MAX_P99_MS = 500
const MAX_ORDER_ERROR_RATE = 0.005

/** Nearest-rank percentile of `values` (p in 0–100); NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1]!
}

/**
 * Evaluates every threshold. A run without any request fails all three: no evidence is not a pass (k6
 * would pass a rate with no samples; a load test that sent nothing has found nothing out).
 */
export function evaluateThresholds(stats: LoadStats): ThresholdResult[] {
  const none = stats.requests === 0
  const failedRate = none ? Number.NaN : stats.failedRequests / stats.requests
  const errorRate = none ? Number.NaN : stats.orderErrors / stats.requests
  const p99 = percentile(stats.durationsMs, 99)
  return [
    {
      metric: 'http_req_failed',
      expression: 'rate<0.01',
      actual: none ? 'no requests' : percent(failedRate),
      limit: percent(MAX_FAILED_RATE),
      pass: failedRate < MAX_FAILED_RATE,
    },
    {
      metric: 'http_req_duration',
      expression: 'p(99)<500',
      actual: Number.isNaN(p99) ? 'no responses' : `${p99.toFixed(1)} ms`,
      limit: `${MAX_P99_MS} ms`,
      pass: p99 < MAX_P99_MS,
    },
    {
      metric: 'order_errors',
      expression: 'rate<0.005',
      actual: none ? 'no requests' : percent(errorRate),
      limit: percent(MAX_ORDER_ERROR_RATE),
      pass: errorRate < MAX_ORDER_ERROR_RATE,
    },
  ]
}

/** The summary and one PASS/FAIL line per threshold, as printed at the end of `npm run load`. */
export function formatReport(stats: LoadStats, results: readonly ThresholdResult[]): string {
  const rate = stats.elapsedSeconds > 0 ? stats.requests / stats.elapsedSeconds : 0
  const statuses = Object.entries(stats.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ')
  const d = stats.durationsMs
  const ms = (p: number) => (d.length === 0 ? '-' : `${percentile(d, p).toFixed(1)} ms`)
  const lines = [
    `requests   ${stats.requests} in ${stats.elapsedSeconds.toFixed(1)} s (${rate.toFixed(1)}/s)${statuses ? `; ${statuses}` : ''}`,
    `latency    p50 ${ms(50)}  p90 ${ms(90)}  p99 ${ms(99)}  max ${ms(100)}`,
    '',
    'thresholds',
  ]
  const width = Math.max(...results.map((r) => `${r.metric} ${r.expression}`.length))
  for (const r of results) {
    const name = `${r.metric} ${r.expression}`.padEnd(width)
    lines.push(`  ${r.pass ? 'PASS' : 'FAIL'}  ${name}  ${r.actual} (limit ${r.limit})`)
  }
  return lines.join('\n')
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(rate < 0.01 ? 2 : 1).replace(/\.?0+$/, '')}%`
}
