// What the k6 stand-ins record, and how a test answers the script's HTTP requests.

export interface K6Request {
  method: string
  url: string
  body: string | null
  headers: Record<string, string>
  tags: Record<string, string>
}

export interface K6Response {
  status: number
  body: string
  // biome-ignore lint/suspicious/noExplicitAny: k6's Response.json returns untyped JSON
  json(selector?: string): any
}

export interface Runtime {
  requests: K6Request[]
  /** Answers each request; tests replace it. */
  answer: (req: K6Request) => { status: number; body?: unknown }
  checks: { name: string; passed: boolean }[]
  /** Values added to each custom metric, by metric name. */
  metrics: Map<string, { type: string; values: (number | boolean)[] }>
  sleeps: number[]
}

// On globalThis: the tests re-import the script (and so these stand-ins) for fresh module state, and the
// test and every copy of the stand-ins must share one record.
const g = globalThis as { __k6Runtime?: Runtime }
g.__k6Runtime ??= {
  requests: [],
  answer: () => ({ status: 200 }),
  checks: [],
  metrics: new Map(),
  sleeps: [],
}
export const runtime: Runtime = g.__k6Runtime

export function resetRuntime(): void {
  runtime.requests.length = 0
  runtime.checks.length = 0
  runtime.metrics.clear()
  runtime.sleeps.length = 0
  runtime.answer = () => ({ status: 200 })
}

export function respond(req: K6Request): K6Response {
  runtime.requests.push(req)
  const { status, body } = runtime.answer(req)
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
  return {
    status,
    body: text,
    json(selector?: string) {
      const value = JSON.parse(text)
      // k6 selectors are gjson paths; the script only reads top-level fields.
      return selector === undefined ? value : value?.[selector]
    },
  }
}
