// The order service's environment, as examples/demo, examples/compose and examples/k8s set it. Every
// variable is checked before anything starts, and a bad one stops the service with a message naming it.

import {
  ConfigError,
  type Env,
  integer,
  reliabilityOptionsFromEnv,
  text,
} from '@goreliable/example-service-kit'
import type { OrderServiceConfig } from './order-service.js'

export {
  ConfigError,
  defaultAdminAllow,
  reliabilityOptionsFromEnv,
} from '@goreliable/example-service-kit'

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
