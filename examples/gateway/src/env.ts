// The gateway's environment, as examples/demo, examples/compose and examples/k8s set it. Every variable is
// checked before anything starts, and a bad one stops the gateway with a message naming it.

import {
  ConfigError,
  type Env,
  integer,
  reliabilityOptionsFromEnv,
  text,
  urlList,
} from '@goreliable/example-service-kit'
import { parseAuthClients } from './auth-clients.js'
import type { GatewayConfig } from './gateway.js'
import { MIN_SECRET_BYTES } from './tokens.js'

export { ConfigError, defaultAdminAllow } from '@goreliable/example-service-kit'

/** Every variable the gateway reads. */
export const gatewayEnvVariables = [
  'HOST',
  'PORT',
  'ADMIN_PORT',
  'LOG_LEVEL',
  'SHUTDOWN_DRAIN_DELAY_MS',
  'PYROSCOPE_URL',
  'ORDER_SERVICE_URLS',
  'ORDER_SERVICE_READY_URLS',
  'AUTH_CLIENTS',
  'JWT_SECRET',
  'TOKEN_TTL_SECONDS',
] as const

/** What main.ts needs: the gateway's config and where to listen. */
export interface GatewaySettings {
  config: GatewayConfig
  host: string
  port: number
}

/** Reads the environment. @throws ConfigError naming the first bad variable. */
export function gatewaySettingsFromEnv(env: Env): GatewaySettings {
  const host = text(env, 'HOST') ?? '127.0.0.1'
  const orderServiceUrls = urlList(env, 'ORDER_SERVICE_URLS')
  if (orderServiceUrls.length === 0) {
    throw new ConfigError('ORDER_SERVICE_URLS', 'required (http://host:8081, comma-separated)')
  }
  const clients = text(env, 'AUTH_CLIENTS')
  if (clients === undefined) throw new ConfigError('AUTH_CLIENTS', 'required (client_id:client_secret,...)')
  let authClients: Record<string, string>
  try {
    authClients = parseAuthClients(clients)
  } catch (err) {
    throw new ConfigError('AUTH_CLIENTS', (err as Error).message)
  }
  if (Object.keys(authClients).length === 0) throw new ConfigError('AUTH_CLIENTS', 'lists no client')
  const jwtSecret = env.JWT_SECRET ?? ''
  if (Buffer.byteLength(jwtSecret) < MIN_SECRET_BYTES) {
    throw new ConfigError('JWT_SECRET', `required, at least ${MIN_SECRET_BYTES} bytes (openssl rand -hex 32)`)
  }
  const orderServiceReadyUrls = urlList(env, 'ORDER_SERVICE_READY_URLS')
  if (orderServiceReadyUrls.length > 0 && orderServiceReadyUrls.length !== orderServiceUrls.length) {
    throw new ConfigError(
      'ORDER_SERVICE_READY_URLS',
      `one readiness URL per ORDER_SERVICE_URLS entry, in the same order (${orderServiceUrls.length}), got ${orderServiceReadyUrls.length}`,
    )
  }
  const config: GatewayConfig = {
    orderServiceUrls,
    orderServiceReadyUrls,
    authClients,
    jwtSecret,
    tokenTtlSeconds: integer(env, 'TOKEN_TTL_SECONDS', 1, 86_400) ?? 300,
    logLevel: text(env, 'LOG_LEVEL') ?? 'info',
    goreliable: reliabilityOptionsFromEnv(env, host, 9464),
  }
  return { config, host, port: integer(env, 'PORT', 0, 65535) ?? 8080 }
}
