export { CURRENCIES, type Currency, MAX_AMOUNT_CENTS, MIN_AMOUNT_CENTS } from './currencies.js'
export {
  ConfigError,
  defaultAdminAllow,
  type OrderServiceSettings,
  orderServiceEnvVariables,
  orderServiceSettingsFromEnv,
  reliabilityOptionsFromEnv,
} from './env.js'
export { type ErrorBody, HttpError, OrderServiceErrorCodes } from './http-errors.js'
export { MIGRATIONS, type Migration, migrate } from './migrations.js'
export {
  BODY_LIMIT_BYTES,
  createOrderService,
  createOrderServiceConfigKeys,
  type OrderServiceConfig,
} from './order-service.js'
export type { Order, OrderInput } from './order-store.js'
export { CLIENT_ID_HEADER } from './orders-routes.js'
