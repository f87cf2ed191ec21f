// The example stack as the launcher runs it: the four services, their ports, and the environment each one
// reads. This file is the services' configuration contract; examples/demo/README.md shows it as a table.

import { fileURLToPath } from 'node:url'
import type { ServiceSpec } from './supervisor.js'

/** The services in start order: each one's dependencies start before it. */
export const serviceNames = ['email-provider', 'order-service', 'notification-worker', 'gateway'] as const

/** One of {@link serviceNames}. */
export type ServiceName = (typeof serviceNames)[number]

/** The ports of the stack on 127.0.0.1. */
export interface StackPorts {
  gateway: number
  gatewayAdmin: number
  orderService: number
  orderServiceAdmin: number
  notificationWorkerAdmin: number
  emailProvider: number
}

/** The ports the demo prefers; any that is taken is replaced by a free one. */
export const defaultPorts: Readonly<StackPorts> = Object.freeze({
  gateway: 8080,
  gatewayAdmin: 9464,
  orderService: 8081,
  orderServiceAdmin: 9465,
  notificationWorkerAdmin: 9466,
  emailProvider: 8082,
})

/** Everything the services' environment is built from. */
export interface StackConfig {
  ports: StackPorts
  /** `DATABASE_URL` of the order service. */
  databaseUrl: string
  /** `NATS_URL` of the order service and the notification worker. */
  natsUrl: string
  /** `DATABASE_POOL_MAX` of the order service (1 on PGlite, whose connections share one backend). */
  databasePoolMax: number
  /** `JWT_SECRET` of the gateway. */
  jwtSecret: string
  /** `AUTH_CLIENTS` of the gateway: `id:secret` pairs, comma-separated. */
  authClients: string
  /** `LOG_LEVEL` of every service. */
  logLevel: string
}

/** Where each service's built entry is, next to this package in examples/. */
export function defaultEntries(): Record<ServiceName, string> {
  const entry = (name: ServiceName) => fileURLToPath(new URL(`../../${name}/dist/main.js`, import.meta.url))
  return {
    'email-provider': entry('email-provider'),
    'order-service': entry('order-service'),
    'notification-worker': entry('notification-worker'),
    gateway: entry('gateway'),
  }
}

/** The base URLs a person or a test uses, from the ports. */
export function stackUrls(ports: StackPorts) {
  const at = (port: number) => `http://127.0.0.1:${port}`
  return {
    gateway: at(ports.gateway),
    gatewayAdmin: at(ports.gatewayAdmin),
    orderService: at(ports.orderService),
    orderServiceAdmin: at(ports.orderServiceAdmin),
    notificationWorkerAdmin: at(ports.notificationWorkerAdmin),
    emailProvider: at(ports.emailProvider),
  }
}

/**
 * The environment of each service. Every service also gets `HOST=127.0.0.1` and `LOG_LEVEL`; the three
 * @goreliable services get `SHUTDOWN_DRAIN_DELAY_MS=0`, since no load balancer needs time to notice here.
 */
export function stackEnv(config: StackConfig): Record<ServiceName, Record<string, string>> {
  const { ports } = config
  const urls = stackUrls(ports)
  const common = { HOST: '127.0.0.1', LOG_LEVEL: config.logLevel }
  const reliable = { ...common, SHUTDOWN_DRAIN_DELAY_MS: '0' }
  return {
    'email-provider': { ...common, PORT: String(ports.emailProvider) },
    'order-service': {
      ...reliable,
      PORT: String(ports.orderService),
      ADMIN_PORT: String(ports.orderServiceAdmin),
      DATABASE_URL: config.databaseUrl,
      DATABASE_POOL_MAX: String(config.databasePoolMax),
      NATS_URL: config.natsUrl,
    },
    'notification-worker': {
      ...reliable,
      ADMIN_PORT: String(ports.notificationWorkerAdmin),
      NATS_URL: config.natsUrl,
      EMAIL_PROVIDER_URL: urls.emailProvider,
    },
    gateway: {
      ...reliable,
      PORT: String(ports.gateway),
      ADMIN_PORT: String(ports.gatewayAdmin),
      ORDER_SERVICE_URLS: urls.orderService,
      // The gateway's breaker also watches the order service's readiness, so it answers 503 the moment the
      // order service stops being ready instead of after failed requests.
      ORDER_SERVICE_READY_URLS: `${urls.orderServiceAdmin}/readyz`,
      AUTH_CLIENTS: config.authClients,
      JWT_SECRET: config.jwtSecret,
    },
  }
}

/** Readiness URL of each service: `/readyz` on the admin port; the email provider's `GET /control`. */
export function readinessUrls(ports: StackPorts): Record<ServiceName, string> {
  const urls = stackUrls(ports)
  return {
    'email-provider': `${urls.emailProvider}/control`,
    'order-service': `${urls.orderServiceAdmin}/readyz`,
    'notification-worker': `${urls.notificationWorkerAdmin}/readyz`,
    gateway: `${urls.gatewayAdmin}/readyz`,
  }
}

/** The supervisor's specs for the whole stack, in start order. */
export function stackSpecs(
  config: StackConfig,
  entries: Record<ServiceName, string> = defaultEntries(),
  readyTimeoutMs = 60_000,
): ServiceSpec[] {
  const env = stackEnv(config)
  const ready = readinessUrls(config.ports)
  return serviceNames.map((name) => ({
    name,
    entry: entries[name],
    env: env[name],
    readyUrl: ready[name],
    readyTimeoutMs,
  }))
}
