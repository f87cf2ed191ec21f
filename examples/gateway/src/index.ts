export { type AuthClients, createAuthClients, parseAuthClients } from './auth-clients.js'
export {
  ConfigError,
  defaultAdminAllow,
  type GatewaySettings,
  gatewayEnvVariables,
  gatewaySettingsFromEnv,
} from './env.js'
export {
  BODY_LIMIT_BYTES,
  createGateway,
  createGatewayConfigKeys,
  type GatewayBreakerConfig,
  type GatewayConfig,
  gatewayBreakerConfigKeys,
} from './gateway.js'
export { type ErrorBody, GatewayErrorCodes, HttpError } from './http-errors.js'
export { MIN_SECRET_BYTES, TOKEN_AUDIENCE, TOKEN_ISSUER } from './tokens.js'
export { UpstreamResponseError, UpstreamTimeoutError } from './upstream-errors.js'
