export { parseAllowList } from './address-matcher.js'
export type { ErrorBody } from './error-reply.js'
export { isUpstreamConnectionError, UPSTREAM_ERROR_CODES } from './error-reply.js'
export * from './errors.js'
export type { ShedReason } from './load-shedding.js'
export {
  adminOptionKeys,
  goreliableOptionKeys,
  profilingOptionKeys,
  requestLoggingOptionKeys,
  routeConfigKeys,
  sheddingOptionKeys,
  shutdownOptionKeys,
} from './options.js'
export { type GoreliableFastifyInstance, goreliable, goreliable as default } from './plugin.js'
export { UNMATCHED_ROUTE } from './request-observer.js'
export type * from './types.js'
