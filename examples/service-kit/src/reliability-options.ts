import type { GoreliableOptions } from '@goreliable/fastify'
import { defaultAdminAllow } from './admin-allow.js'
import { ConfigError } from './config-error.js'
import { type Env, integer, text } from './env-readers.js'

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
