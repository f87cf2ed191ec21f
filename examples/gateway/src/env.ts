// The gateway's environment, as examples/demo, examples/compose and examples/k8s set it. Every variable is
// checked before anything starts, and a bad one stops the gateway with a message naming it.

import type { GoreliableOptions } from '@goreliable/fastify'
import { parseAuthClients } from './auth-clients.js'
import type { GatewayConfig } from './gateway.js'
import { MIN_SECRET_BYTES } from './tokens.js'

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

type Env = Record<string, string | undefined>

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

function list(env: Env, name: string): string[] {
  return (text(env, name) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

function urlList(env: Env, name: string): string[] {
  const urls = list(env, name)
  for (const url of urls) {
    if (!/^https?:\/\/[^\s/]+/.test(url))
      throw new ConfigError(name, `not an http(s) URL: ${JSON.stringify(url)}`)
  }
  return urls
}
