export { defaultAdminAllow } from '@goreliable/example-service-kit'
export {
  createNotificationWorkerOptionKeys,
  type NotificationBreakerConfig,
  type NotificationWorkerConfig,
  notificationBreakerOptionKeys,
} from './config.js'
export {
  createEmailClient,
  type EmailClient,
  type EmailClientOptions,
  notificationFor,
  type SendOutcome,
} from './email-client.js'
export { configFromEnv, envVariables } from './env-config.js'
export * from './errors.js'
export { createNotificationWorker, type NotificationWorker } from './notification-worker.js'
export { decodeOrderCreated, type OrderCreated } from './order-event.js'
