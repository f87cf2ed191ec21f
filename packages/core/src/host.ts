import type { Registry } from 'prom-client'
import type { Health } from './health.js'
import type { Shutdown } from './shutdown.js'

/**
 * What an adapter needs from the service it runs in: where metrics go, where readiness checks go, and
 * where closers go. `@goreliable/fastify`'s `app.goreliable` decorator is one; a service without Fastify
 * builds one from `createHealth()` and `createShutdown()`. Passing a host to `@goreliable/pg` or
 * `@goreliable/nats` wires metrics, readiness and graceful shutdown in one call.
 */
export interface GoreliableHost {
  readonly registry: Registry
  readonly health: Health
  readonly shutdown: Shutdown
}
