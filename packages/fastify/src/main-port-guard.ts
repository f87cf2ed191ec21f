import type { Server } from 'node:net'
import { AdminPortConflictError } from './errors.js'

/**
 * Makes the main server refuse to listen on the admin server's port, with `GR_ERR_ADMIN_PORT_CONFLICT`.
 *
 * The main port is only known when `app.listen()` runs, after `ready` has already started the admin server,
 * so it cannot be checked at register time. Binding would fail on its own only for the same address family:
 * an admin server on 0.0.0.0 and a main server on :: or ::1 can share a port number, which would put the
 * admin routes one address away from public traffic. So the check is made on the port Fastify asks for,
 * before anything is bound, and fails `app.listen()` the way a bind error would (an `error` event).
 *
 * Returns a function that removes the guard.
 */
export function guardMainPort(server: Server, adminPort: number): () => void {
  const listen = server.listen
  const guarded = function (this: Server, ...args: unknown[]) {
    const port = requestedPort(args[0])
    if (port !== undefined && port !== 0 && port === adminPort) {
      process.nextTick(() => this.emit('error', new AdminPortConflictError(port)))
      return this
    }
    return (listen as (...a: unknown[]) => Server).apply(this, args)
  }
  server.listen = guarded as Server['listen']
  return () => {
    if (server.listen === guarded) server.listen = listen
  }
}

function requestedPort(first: unknown): number | undefined {
  if (typeof first === 'number') return first
  if (typeof first === 'string' && /^\d+$/.test(first)) return Number(first)
  if (typeof first === 'object' && first !== null) {
    const port = (first as { port?: unknown }).port
    if (typeof port === 'number') return port
    if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port)
  }
  return undefined
}
