// Runs the gateway: `node dist/main.js`, configured by the environment (see README.md). It exits 0 after a
// SIGTERM or SIGINT once every request in flight has been answered (@goreliable/fastify's graceful
// shutdown), and 1 when the configuration is bad.

import { ConfigError, gatewaySettingsFromEnv } from './env.js'
import { createGateway } from './gateway.js'

let settings: ReturnType<typeof gatewaySettingsFromEnv>
try {
  settings = gatewaySettingsFromEnv(process.env)
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  console.error(`gateway: ${err.message}`)
  process.exit(1)
}

try {
  const app = await createGateway(settings.config)
  await app.listen({ host: settings.host, port: settings.port })
} catch (err) {
  console.error(`gateway: failed to start: ${(err as Error).message}`)
  process.exit(1)
}
