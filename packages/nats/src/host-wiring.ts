import type { GoreliableHost, Health } from '@goreliable/core'
import type { NatsConnection } from '@nats-io/transport-node'
import { natsHealthCheck } from './nats-health-check.js'

/** Connections that already have a readiness check in a Health, so several workers add one check. */
const checked = new WeakMap<Health, WeakSet<NatsConnection>>()

/**
 * Registers `close` as a shutdown closer under `name` (made unique with `#2`, `#3`… when two workers read
 * one consumer in one process) and, once per connection, a readiness check of the connection.
 */
export function wireHost(
  host: GoreliableHost,
  connection: NatsConnection,
  name: string,
  close: () => unknown,
): void {
  for (let i = 1; ; i++) {
    try {
      host.shutdown.addCloser(i === 1 ? name : `${name}#${i}`, close)
      break
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'GR_ERR_INVALID_OPTION' || i > 100) throw err
    }
  }
  let connections = checked.get(host.health)
  if (connections === undefined) {
    connections = new WeakSet()
    checked.set(host.health, connections)
  }
  if (connections.has(connection)) return
  connections.add(connection)
  const check = natsHealthCheck(connection)
  for (let i = 1; i <= 100; i++) {
    try {
      host.health.addCheck({ ...check, name: i === 1 ? 'nats' : `nats#${i}` })
      return
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'GR_ERR_INVALID_OPTION') throw err
    }
  }
}
