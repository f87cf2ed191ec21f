import { validate } from '@goreliable/core'

/**
 * What a fault proxy does to the traffic it carries.
 *
 * - `none`: forwards both ways untouched.
 * - `latency`: delays every chunk, each way, by `latencyMs`, keeping their order.
 * - `blackhole`: a network partition. Existing connections stop forwarding (the proxy stops reading, so TCP
 *   flow control stalls the senders, as a partition does) and new connections are accepted and held without
 *   reaching the target. When the fault ends, held bytes flow again, as TCP would deliver them after a
 *   partition heals.
 * - `reset`: every connection, existing and new, is closed with a TCP RST (`ECONNRESET` for the client).
 * - `cut`: existing connections are closed with a FIN (the client reads end of stream), and new connections
 *   are accepted and closed at once, so the port stays open and the client fails fast instead of hanging.
 */
export type Fault =
  | { mode: 'none' }
  | {
      mode: 'latency'
      /** Delay added to each chunk in each direction, in milliseconds. */
      latencyMs: number
    }
  | { mode: 'blackhole' }
  | { mode: 'reset' }
  | { mode: 'cut' }

/** The fault modes, as `Fault['mode']` spells them. */
export const FAULT_MODES = ['none', 'latency', 'blackhole', 'reset', 'cut'] as const

/** One of {@link FAULT_MODES}. */
export type FaultMode = (typeof FAULT_MODES)[number]

/** Every key a {@link Fault} object may have. */
export const faultOptionKeys = ['mode', 'latencyMs'] as const

/** Validates a fault and returns a normalized copy; throws `InvalidOptionError` naming the bad key. */
export function normalizeFault(value: unknown, where = 'fault'): Fault {
  const o = validate.requireObject(where, value)
  const mode = validate.requireOneOf(`${where}.mode`, o.mode, FAULT_MODES)
  validate.rejectUnknownKeys(where, o, mode === 'latency' ? ['mode', 'latencyMs'] : ['mode'])
  if (mode === 'latency') {
    return { mode, latencyMs: validate.requireNumber(`${where}.latencyMs`, o.latencyMs, { max: 600_000 }) }
  }
  return { mode }
}

/** A short human description, for logs and reports: `latency 200 ms`, `blackhole`. */
export function describeFault(fault: Fault): string {
  return fault.mode === 'latency' ? `latency ${fault.latencyMs} ms` : fault.mode
}
