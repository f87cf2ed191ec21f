// The notification worker's entry point: `node dist/main.js`, configured by the environment (see README.md).
// SIGTERM or SIGINT: readiness fails, after SHUTDOWN_DRAIN_DELAY_MS the worker stops pulling, finishes the
// notifications in flight (hands back what it cannot finish), drains NATS and exits 0.

import { configFromEnv } from './env-config.js'
import { createNotificationWorker, type NotificationWorker } from './notification-worker.js'

let startFailed = false
let service: NotificationWorker
try {
  // A failed start exits 1 even though the shutdown that cleans up after it ends well.
  service = createNotificationWorker({
    ...configFromEnv(),
    exit: (code) => process.exit(startFailed ? 1 : code),
  })
} catch (err) {
  console.error(`notification-worker: ${(err as Error).message}`)
  process.exit(1)
}

try {
  await service.start()
} catch (err) {
  startFailed = true
  console.error(`notification-worker: failed to start: ${(err as Error).message}`)
  await service.close()
  process.exit(1)
}
