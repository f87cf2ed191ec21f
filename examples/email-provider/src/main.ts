// Runs the fake email provider: `node dist/main.js`, configured by PORT, HOST and LOG_LEVEL.

import { createEmailProvider } from './provider.js'

const port = Number(process.env.PORT ?? 8082)
const host = process.env.HOST ?? '127.0.0.1'
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`email-provider: PORT must be a port number, got ${process.env.PORT}`)
  process.exit(1)
}

const app = createEmailProvider({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })

let closing = false
const stop = (signal: string) => {
  if (closing) return
  closing = true
  app.log.info({ signal }, 'email provider stopping')
  app.close().then(
    () => process.exit(0),
    (error: unknown) => {
      app.log.error({ err: error }, 'email provider failed to close')
      process.exit(1)
    },
  )
}
process.on('SIGTERM', () => stop('SIGTERM'))
process.on('SIGINT', () => stop('SIGINT'))

try {
  await app.listen({ port, host })
} catch (error) {
  app.log.error({ err: error }, 'email provider failed to listen')
  process.exit(1)
}
