import { createServer } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { goreliable } from '../src/index.js'
import type { GoreliableOptions } from '../src/types.js'

/**
 * An app with the plugin, its admin server on a free loopback port, and no signal listeners (the test runner
 * must not exit on a coordinator's process.exit, and many apps in one process would each add listeners).
 */
export async function buildApp(
  options: GoreliableOptions = {},
  fastifyOptions: FastifyServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify(fastifyOptions)
  await app.register(goreliable, {
    admin: { port: 0, host: '127.0.0.1' },
    shutdown: { signals: [], exit: () => {} },
    ...options,
  })
  return app
}

/** Base URL of the app's admin server, once ready. */
export function adminUrl(app: FastifyInstance, host = '127.0.0.1'): string {
  const address = app.goreliable.adminAddress()
  if (address === null) throw new Error('admin server not listening')
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Lines of a Prometheus text exposition that belong to `metric` (its samples, not HELP/TYPE). */
export function samples(text: string, metric: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${metric}{`) || l.startsWith(`${metric} `))
}
