// The provider's fault switches: what the control endpoint reads and writes, and what a delivery obeys.

/** How a full outage looks to a client: an HTTP error status, or a connection dropped with a TCP reset. */
export type OutageMode = 'none' | 'http503' | 'reset'

/** The fault state, as `GET /control` shows it. */
export interface FaultState {
  /** Added before every delivery attempt is answered. @default 0 */
  latencyMs: number
  /** Share of delivery attempts answered 500, from 0 to 1. @default 0 */
  errorRate: number
  /** Full outage of the delivery endpoint. @default 'none' */
  outage: OutageMode
  /** Status of the `http503` outage's answers (500 to 599). @default 503 */
  outageStatus: number
}

/**
 * A change to the fault state, as `PUT /control` takes it. `outage: true` is `'http503'`, `false` is `'none'`.
 */
export interface FaultPatch {
  latencyMs?: number
  errorRate?: number
  outage?: boolean | OutageMode
  outageStatus?: number
}

/** The state of a healthy provider; `DELETE /control` returns to it. */
export const healthyFaults: Readonly<FaultState> = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  outage: 'none',
  outageStatus: 503,
})

/** The longest latency the control endpoint accepts: longer only makes tests hang. */
export const maxLatencyMs = 60_000

const patchKeys = ['latencyMs', 'errorRate', 'outage', 'outageStatus'] as const
const outageModes: readonly OutageMode[] = ['none', 'http503', 'reset']

/**
 * Checks a fault patch from an untrusted source (a request body or the factory's options).
 * Returns the message naming the first bad field, or the patch narrowed to its type.
 */
export function parseFaultPatch(input: unknown, where = 'body'): { patch: FaultPatch } | { error: string } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { error: `${where} must be a JSON object with latencyMs, errorRate, outage or outageStatus` }
  }
  const record = input as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (!(patchKeys as readonly string[]).includes(key)) {
      return { error: `${where}.${key} is not a fault setting (expected one of ${patchKeys.join(', ')})` }
    }
  }
  const { latencyMs, errorRate, outage, outageStatus } = record
  if (latencyMs !== undefined && !(Number.isInteger(latencyMs) && inRange(latencyMs, 0, maxLatencyMs))) {
    return { error: `${where}.latencyMs must be an integer from 0 to ${maxLatencyMs}` }
  }
  if (errorRate !== undefined && !(typeof errorRate === 'number' && inRange(errorRate, 0, 1))) {
    return { error: `${where}.errorRate must be a number from 0 to 1` }
  }
  if (outage !== undefined && typeof outage !== 'boolean' && !outageModes.includes(outage as OutageMode)) {
    return { error: `${where}.outage must be true, false, 'none', 'http503' or 'reset'` }
  }
  if (outageStatus !== undefined && !(Number.isInteger(outageStatus) && inRange(outageStatus, 500, 599))) {
    return { error: `${where}.outageStatus must be an integer from 500 to 599` }
  }
  return { patch: record as FaultPatch }
}

/** Applies a checked patch: absent fields keep their value. */
export function applyFaultPatch(state: FaultState, patch: FaultPatch): FaultState {
  const next = { ...state }
  if (patch.latencyMs !== undefined) next.latencyMs = patch.latencyMs
  if (patch.errorRate !== undefined) next.errorRate = patch.errorRate
  if (patch.outageStatus !== undefined) next.outageStatus = patch.outageStatus
  if (patch.outage !== undefined) {
    next.outage = patch.outage === true ? 'http503' : patch.outage === false ? 'none' : patch.outage
  }
  return next
}

function inRange(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && value >= min && value <= max
}
