// The admin server's routes, read from @goreliable/fastify itself: the plugin builds its admin server as a
// Fastify instance of its own, and every Fastify instance announces itself on the `fastify.initialization`
// diagnostics channel, where an onRoute hook can be added before any route exists.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { PackageSource } from './sources.js'

interface RouteOptions {
  method: string | string[]
  url: string
}
interface FastifyLike {
  addHook(name: 'onRoute', hook: (route: RouteOptions) => void): void
}

/** `GET /metrics`, … for every route the admin server registers (HEAD routes left out). */
export async function adminRoutes(fastifyPackage: PackageSource): Promise<string[]> {
  const require = createRequire(join(fastifyPackage.dir, 'package.json'))
  const Fastify = (await import(pathToFileURL(require.resolve('fastify')).href)).default
  const plugin = (await import(pathToFileURL(fastifyPackage.distEntry!).href)).goreliable
  const app = Fastify({ logger: false })
  const routes = new Set<string>()
  const onInit = (message: unknown) => {
    ;(message as { fastify: FastifyLike }).fastify.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) if (method !== 'HEAD') routes.add(`${method} ${route.url}`)
    })
  }
  // Subscribed only while the plugin registers, so the instances seen are the ones it creates.
  subscribe('fastify.initialization', onInit)
  try {
    await app.register(plugin, { admin: { port: 0, host: '127.0.0.1' }, shutdown: { signals: [] } })
    await app.ready()
  } finally {
    unsubscribe('fastify.initialization', onInit)
    await app.close()
  }
  return [...routes].sort()
}
