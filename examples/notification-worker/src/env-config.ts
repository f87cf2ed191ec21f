import { type NotificationWorkerConfig, resolveConfig } from './config.js'
import { InvalidEnvError } from './errors.js'

/**
 * The environment the entry point reads: the contract of examples/demo/src/services.ts,
 * examples/compose/compose.yaml and examples/k8s/base. An empty value counts as unset.
 */
export const envVariables = [
  'HOST',
  'ADMIN_PORT',
  'NATS_URL',
  'EMAIL_PROVIDER_URL',
  'LOG_LEVEL',
  'SHUTDOWN_DRAIN_DELAY_MS',
  'PYROSCOPE_URL',
] as const

/** Which variable sets which config key, to name the variable when its value is refused. */
const SOURCE: Record<string, (typeof envVariables)[number]> = {
  host: 'HOST',
  adminPort: 'ADMIN_PORT',
  natsUrl: 'NATS_URL',
  emailProviderUrl: 'EMAIL_PROVIDER_URL',
  logLevel: 'LOG_LEVEL',
  drainDelayMs: 'SHUTDOWN_DRAIN_DELAY_MS',
  pyroscopeUrl: 'PYROSCOPE_URL',
}

/**
 * Builds the worker's config from the environment. Unset `NATS_URL` and `EMAIL_PROVIDER_URL` mean the
 * local defaults of `npm run demo` (`nats://127.0.0.1:4222`, `http://127.0.0.1:8082`). Throws
 * {@link InvalidEnvError} naming the variable whose value cannot be used.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): NotificationWorkerConfig {
  const read = (name: (typeof envVariables)[number]) => {
    const value = env[name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }
  const config: NotificationWorkerConfig = {
    natsUrl: read('NATS_URL') ?? 'nats://127.0.0.1:4222',
    emailProviderUrl: read('EMAIL_PROVIDER_URL') ?? 'http://127.0.0.1:8082',
  }
  const host = read('HOST')
  if (host !== undefined) config.host = host
  const adminPort = read('ADMIN_PORT')
  if (adminPort !== undefined) config.adminPort = integer('ADMIN_PORT', adminPort, 65_535)
  const logLevel = read('LOG_LEVEL')
  if (logLevel !== undefined) config.logLevel = logLevel as NotificationWorkerConfig['logLevel']
  const drain = read('SHUTDOWN_DRAIN_DELAY_MS')
  if (drain !== undefined) config.drainDelayMs = integer('SHUTDOWN_DRAIN_DELAY_MS', drain, 2 ** 31 - 1)
  const pyroscope = read('PYROSCOPE_URL')
  if (pyroscope !== undefined) config.pyroscopeUrl = pyroscope
  try {
    resolveConfig(config)
  } catch (err) {
    const option = (err as { option?: unknown }).option
    const variable = typeof option === 'string' ? SOURCE[option] : undefined
    if (variable === undefined) throw err
    // InvalidOptionError's message reads 'Invalid option "x": expected <what>, received <value>'.
    const expected = /: expected (.*?)(?:, received .*)?$/.exec((err as Error).message)?.[1] ?? 'valid'
    throw new InvalidEnvError(variable, expected, read(variable) ?? '')
  }
  return config
}

function integer(name: string, value: string, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(n) || n > max)
    throw new InvalidEnvError(name, `an integer from 0 to ${max}`, value)
  return n
}
