export { defaultAdminAllow } from './admin-allow.js'
export { ConfigError } from './config-error.js'
export { type Env, integer, list, text, urlList } from './env-readers.js'
export {
  CommonErrorCodes,
  type ErrorBody,
  HttpError,
  installErrorHandlers,
  sendError,
} from './http-errors.js'
export { reliabilityOptionsFromEnv } from './reliability-options.js'
export { describeValidationError } from './validation-message.js'
