import { type CheckKind, type HealthCheck, validate } from '@goreliable/core'
import type { NatsConnection } from '@nats-io/transport-node'
import { DisconnectedError, messageOf } from './errors.js'
import { requireConnection } from './worker-options.js'

export interface NatsHealthCheckOptions {
  /**
   * The check's name in health reports and the `check` label.
   * @default 'nats'
   */
  name?: string
  /**
   * Which probe it answers.
   * @default 'readiness'
   */
  kind?: CheckKind
  /**
   * Longest wait for the server's PONG.
   * @default the Health's defaultTimeoutMs
   */
  timeoutMs?: number
}

/** Every option `natsHealthCheck` accepts; the docs test checks each one is documented. */
export const natsHealthCheckOptionKeys = ['name', 'kind', 'timeoutMs'] as const

/**
 * A check for core's `health.addCheck()`: fails while the connection is closed, draining, disconnected or
 * reconnecting (known at once from the client's status events), and otherwise passes when the server
 * answers a PING, so a connection that looks open but whose server stopped answering fails too.
 *
 * @example
 * health.addCheck(natsHealthCheck(nc))
 */
export function natsHealthCheck(
  connection: NatsConnection,
  options: NatsHealthCheckOptions = {},
): HealthCheck {
  const nc = requireConnection(connection)
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, natsHealthCheckOptionKeys)
  const name = validate.optionalString('name', o.name, 'nats')
  const kind = validate.requireOneOf<CheckKind>('kind', o.kind ?? 'readiness', [
    'readiness',
    'liveness',
    'startup',
  ])
  const timeoutMs = validate.optionalNumber('timeoutMs', o.timeoutMs, undefined, { min: 1, max: 2 ** 31 - 1 })

  let down: string | undefined
  // The status iterator ends by itself when the connection closes.
  void (async () => {
    try {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') down = 'disconnected'
        else if (s.type === 'reconnecting') down = 'reconnecting'
        else if (s.type === 'reconnect') down = undefined
      }
    } catch {
      // A closed connection is reported by isClosed().
    }
  })()

  const check: HealthCheck = {
    name,
    kind,
    async check() {
      if (nc.isClosed()) throw new DisconnectedError('closed')
      if (nc.isDraining()) throw new DisconnectedError('draining')
      if (down !== undefined) throw new DisconnectedError(down)
      try {
        await nc.flush()
      } catch (err) {
        // The client rejects a flush when the connection drops before the PONG, ahead of its status event.
        throw new DisconnectedError(`not answering (${messageOf(err)})`, err)
      }
    },
  }
  if (timeoutMs !== undefined) check.timeoutMs = timeoutMs
  return check
}
