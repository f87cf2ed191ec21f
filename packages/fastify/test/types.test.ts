// Type tests, checked by `tsc -p tsconfig.test.json` (and run by vitest, where they only assert that the
// module loads). The functions below are never called: they exist for the compiler.
import type { AddressInfo } from 'node:net'
import type { Breaker, GoreliableHost, Health, Profiler, Shutdown } from '@goreliable/core'
import Fastify from 'fastify'
import type { Registry } from 'prom-client'
import { describe, expect, expectTypeOf, it } from 'vitest'
import goreliableDefault, {
  type GoreliableDecorator,
  type GoreliableOptions,
  type GoreliableRouteConfig,
  goreliable,
} from '../src/index.js'

describe('types', () => {
  it('the default export is the named export', () => {
    expect(goreliableDefault).toBe(goreliable)
  })
})

export async function decoratorTypes() {
  const app = Fastify()
  await app.register(goreliable, { serviceName: 'orders' })

  expectTypeOf(app.goreliable).toEqualTypeOf<GoreliableDecorator>()
  expectTypeOf(app.goreliable).toExtend<GoreliableHost>()
  expectTypeOf(app.goreliable.registry).toEqualTypeOf<Registry>()
  expectTypeOf(app.goreliable.health).toEqualTypeOf<Health>()
  expectTypeOf(app.goreliable.shutdown).toEqualTypeOf<Shutdown>()
  expectTypeOf(app.goreliable.profiler).toEqualTypeOf<Profiler>()
  expectTypeOf(app.goreliable.adminAddress()).toEqualTypeOf<AddressInfo | null>()

  const orders = app.goreliable.breaker('orders', async (id: string) => ({ id, total: 3 }), {
    timeoutMs: 500,
  })
  expectTypeOf(orders).toEqualTypeOf<Breaker<[id: string], { id: string; total: number }>>()
  expectTypeOf(orders.fire('42')).resolves.toEqualTypeOf<{ id: string; total: number }>()
  expectTypeOf(orders.retryAfterSeconds()).toBeNumber()
  // @ts-expect-error the action takes a string
  orders.fire(42)
  // @ts-expect-error the plugin provides the registry
  app.goreliable.breaker('x', async () => 1, { registry: app.goreliable.registry })
  // @ts-expect-error core's option is timeoutMs
  app.goreliable.breaker('x', async () => 1, { timeout: 5 })
  // @ts-expect-error the decorator is not reassignable to another shape
  app.goreliable = { registry: app.goreliable.registry }
}

export async function optionTypes() {
  const app = Fastify()
  await app.register(goreliable, {
    serviceName: 'orders',
    admin: { port: 0, host: '::', allow: ['10.0.0.0/8'] },
    metrics: true,
    upstreamRetryAfterSeconds: 5,
    shedding: {
      maxEventLoopDelayMs: 200,
      maxEventLoopUtilization: 0.9,
      retryAfterSeconds: 2,
      sampleIntervalMs: 500,
    },
    shutdown: {
      drainDelayMs: 5000,
      timeoutMs: 10_000,
      signals: ['SIGTERM'],
      exit: (code) => process.exit(code),
    },
    profiling: { pyroscope: { serverAddress: 'http://pyroscope:4040', tags: { env: 'prod' } } },
    requestLogging: { level: 'info' },
  })
  await app.register(goreliable, { admin: false, shedding: false, shutdown: false, requestLogging: true })
  await app.register(goreliable)

  // @ts-expect-error the port is a number
  await app.register(goreliable, { admin: { port: '9464' } })
  // @ts-expect-error admin is an object or false
  await app.register(goreliable, { admin: true })
  // @ts-expect-error units are in option names
  await app.register(goreliable, { shedding: { maxEventLoopDelay: 200 } })
  // @ts-expect-error not a signal name
  await app.register(goreliable, { shutdown: { signals: ['SIGNOPE'] } })
  // @ts-expect-error requestLogging is a boolean or { level }
  await app.register(goreliable, { requestLogging: 'info' })
  // @ts-expect-error not a pino level
  await app.register(goreliable, { requestLogging: { level: 'verbose' } })
  // @ts-expect-error unknown option
  await app.register(goreliable, { timeout: 5 })

  const options: GoreliableOptions = { admin: { port: 9465 } }
  expectTypeOf(options.shutdown).toEqualTypeOf<GoreliableOptions['shutdown']>()
}

export function routeConfigTypes() {
  const app = Fastify()
  app.get('/health', { config: { goreliable: { metrics: false, shedding: false } } }, async () => 'ok')
  app.get('/x', async (request) => {
    expectTypeOf(request.routeOptions.config.goreliable).toEqualTypeOf<GoreliableRouteConfig | undefined>()
    return 'x'
  })
  // @ts-expect-error metrics is a boolean
  app.get('/y', { config: { goreliable: { metrics: 'no' } } }, async () => 'y')
  // A misspelt key (`metric`) type-checks, because Fastify infers the route's ContextConfig from the literal
  // and intersects it; the plugin rejects it when the route is added (test/metrics.test.ts).
}
