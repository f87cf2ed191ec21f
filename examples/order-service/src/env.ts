// The order service's environment, as examples/demo, examples/compose and examples/k8s set it. Every
// variable is checked before anything starts, and a bad one stops the service with a message naming it.

import type { GoreliableOptions } from '@goreliable/fastify'
import type { OrderServiceConfig } from './order-service.js'

/** A variable is missing or malformed; `variable` names it. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`)
    this.name = 'ConfigError'
  }
}

/** Every variable the order service reads. */
export const orderServiceEnvVariables = [
  'HOST',
  'PORT',
  'ADMIN_PORT',
  'LOG_LEVEL',
  'SHUTDOWN_DRAIN_DELAY_MS',
  'PYROSCOPE_URL',
  'DATABASE_URL',
  'DATABASE_POOL_MAX',
  'DATABASE_SCHEMA',
  'NATS_URL',
] as const

type Env = Record<string, string | undefined>

/** What main.ts needs: the service's config and where to listen. */
export interface OrderServiceSettings {
  config: OrderServiceConfig
  host: string
  port: number
}

/** Reads the environment. @throws ConfigError naming the first bad variable. */
export function orderServiceSettingsFromEnv(env: Env): OrderServiceSettings {
  const host = text(env, 'HOST') ?? '127.0.0.1'
  const databaseUrl = text(env, 'DATABASE_URL')
  if (databaseUrl === undefined)
    throw new ConfigError('DATABASE_URL', 'required (postgres://user@host:5432/db)')
  const natsUrl = text(env, 'NATS_URL')
  if (natsUrl === undefined) throw new ConfigError('NATS_URL', 'required (nats://host:4222, comma-separated)')
  const config: OrderServiceConfig = {
    databaseUrl,
    databasePoolMax: integer(env, 'DATABASE_POOL_MAX', 1, 1000) ?? 10,
    natsUrl,
    logLevel: text(env, 'LOG_LEVEL') ?? 'info',
    goreliable: reliabilityOptionsFromEnv(env, host, 9465),
  }
  const schema = text(env, 'DATABASE_SCHEMA')
  if (schema !== undefined) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new ConfigError('DATABASE_SCHEMA', `a lowercase identifier, got ${JSON.stringify(schema)}`)
    }
    config.databaseSchema = schema
  }
  return { config, host, port: integer(env, 'PORT', 0, 65535) ?? 8081 }
}

/** Where Prometheus scrapes from in a container network or a cluster: the private ranges. */
const PRIVATE_NETWORKS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']
const LOOPBACK = ['127.0.0.1/32', '::1/128']

/**
 * Who may read `/metrics` and pprof on the admin port (the probes are open to all). On loopback only local
 * clients exist; bound to another address (`0.0.0.0` in a container), Prometheus scrapes from another
 * container or pod, whose address is private but unknown here. The notification worker decides the same way.
 */
export function defaultAdminAllow(host: string): string[] {
  const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.')
  return loopback ? [...LOOPBACK] : [...LOOPBACK, ...PRIVATE_NETWORKS]
}

/** The @goreliable/fastify options the environment sets: admin port and allow list, drain delay, Pyroscope. */
export function reliabilityOptionsFromEnv(
  env: Env,
  host: string,
  defaultAdminPort: number,
): Omit<GoreliableOptions, 'serviceName'> {
  const options: Omit<GoreliableOptions, 'serviceName'> = {
    admin: {
      port: integer(env, 'ADMIN_PORT', 0, 65535) ?? defaultAdminPort,
      host,
      allow: defaultAdminAllow(host),
    },
  }
  const drainDelayMs = integer(env, 'SHUTDOWN_DRAIN_DELAY_MS', 0, 600_000)
  // Unset: the plugin's default (5 s in Kubernetes, 0 elsewhere).
  if (drainDelayMs !== undefined) options.shutdown = { drainDelayMs }
  const pyroscope = text(env, 'PYROSCOPE_URL')
  if (pyroscope !== undefined) {
    if (!/^https?:\/\/\S+$/.test(pyroscope)) throw new ConfigError('PYROSCOPE_URL', 'an http(s) URL')
    options.profiling = { pyroscope: { serverAddress: pyroscope } }
  }
  return options
}

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

function integer(env: Env, name: string, min: number, max: number): number | undefined {
  const value = text(env, name)
  if (value === undefined) return undefined
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new ConfigError(name, `an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return n
}
