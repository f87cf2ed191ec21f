// Runs the order service: `node dist/main.js`, configured by the environment (see README.md). It exits 0
// after a SIGTERM or SIGINT once everything has closed (@goreliable/fastify's graceful shutdown), and 1
// when the configuration is bad or the database never answered at start.

import { ConfigError, orderServiceSettingsFromEnv } from './env.js'
import { createOrderService } from './order-service.js'

let settings: ReturnType<typeof orderServiceSettingsFromEnv>
try {
  settings = orderServiceSettingsFromEnv(process.env)
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  console.error(`order-service: ${err.message}`)
  process.exit(1)
}

try {
  const app = await createOrderService(settings.config)
  await app.listen({ host: settings.host, port: settings.port })
} catch (err) {
  // createOrderService has logged the details already.
  console.error(`order-service: failed to start: ${(err as Error).message}`)
  process.exit(1)
}
