// Option handling and request encoding of the load driver, apart from its scheduling loops.
import { InvalidOptionError, validate } from '@goreliable/core'
import type { LoadOptions, RequestSpec } from './load-driver.js'

/** Every option key of `startLoad`. */
export const startLoadOptionKeys = [
  'url',
  'durationMs',
  'ratePerSecond',
  'concurrency',
  'maxInFlight',
  'connections',
  'timeoutMs',
  'request',
  'recordHeaders',
  'keepBody',
  'honourRetryAfter',
  'signal',
] as const

/** Validates the options of `startLoad` and fills in the defaults. */
export function resolveLoadOptions(options: LoadOptions) {
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, startLoadOptionKeys)
  const url = validate.requireString('url', o.url)
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new InvalidOptionError('url', 'an absolute http URL', url)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidOptionError('url', 'an absolute http URL', url)
  }
  const ratePerSecond = validate.optionalNumber('ratePerSecond', o.ratePerSecond, undefined, { min: 0.1 })
  const concurrency = validate.optionalNumber('concurrency', o.concurrency, undefined, {
    min: 1,
    integer: true,
  })
  if ((ratePerSecond === undefined) === (concurrency === undefined)) {
    throw new InvalidOptionError('ratePerSecond', 'exactly one of ratePerSecond and concurrency')
  }
  const maxInFlight = validate.optionalNumber('maxInFlight', o.maxInFlight, 1000, { min: 1, integer: true })
  const honourRetryAfter = validate.optionalBoolean('honourRetryAfter', o.honourRetryAfter, false)
  if (honourRetryAfter && concurrency === undefined) {
    throw new InvalidOptionError('honourRetryAfter', 'a closed loop (concurrency)', honourRetryAfter)
  }
  const recordHeaders = o.recordHeaders ?? ['retry-after']
  if (!Array.isArray(recordHeaders) || !recordHeaders.every((h) => typeof h === 'string' && h.length > 0)) {
    throw new InvalidOptionError('recordHeaders', 'an array of header names', recordHeaders)
  }
  const path = `${parsed.pathname}${parsed.search}`
  return {
    origin: parsed.origin,
    path,
    durationMs: validate.requireNumber('durationMs', o.durationMs, { min: 1, max: 24 * 3600_000 }),
    ratePerSecond,
    concurrency,
    maxInFlight,
    connections: validate.optionalNumber(
      'connections',
      o.connections,
      concurrency ?? Math.min(maxInFlight, 256),
      {
        min: 1,
        integer: true,
      },
    ),
    timeoutMs: validate.optionalNumber('timeoutMs', o.timeoutMs, 10_000, { min: 1, integer: true }),
    request:
      validate.optionalFunction<(index: number) => RequestSpec>('request', o.request) ??
      ((): RequestSpec => ({})),
    // The clients read Retry-After from the samples: keep it whatever the caller listed.
    recordHeaders: [
      ...new Set([
        ...recordHeaders.map((h: string) => h.toLowerCase()),
        ...(honourRetryAfter ? ['retry-after'] : []),
      ]),
    ],
    honourRetryAfter,
    keepBody: validate.optionalFunction<(status: number) => boolean>('keepBody', o.keepBody) ?? (() => false),
    signal: o.signal as AbortSignal | undefined,
  }
}

/** The body as undici sends it, and the headers with a JSON content type when the body was an object. */
export function encode(spec: RequestSpec): {
  body: string | Uint8Array | undefined
  headers: Record<string, string>
} {
  const headers = { ...spec.headers }
  const b = spec.body
  if (b === undefined || typeof b === 'string' || b instanceof Uint8Array) return { body: b, headers }
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/json'
  }
  return { body: JSON.stringify(b), headers }
}

/** A stable code for a failed request: undici's and Node's codes, with the reset hidden under a socket error. */
export function errorCode(error: unknown): string {
  const e = error as { name?: string; code?: string; cause?: { code?: string } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'TIMEOUT'
  if (e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT') return 'TIMEOUT'
  if (e?.code === 'UND_ERR_CONNECT_TIMEOUT') return 'TIMEOUT'
  // undici reports a peer's RST mid-request as UND_ERR_SOCKET with the errno in `cause`.
  if (e?.code === 'UND_ERR_SOCKET' && e.cause?.code) return e.cause.code
  return e?.code ?? e?.name ?? 'ERROR'
}
