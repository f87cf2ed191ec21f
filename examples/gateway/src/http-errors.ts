// The gateway answers its own errors in the example services' one JSON shape (the service kit's error
// handlers), the shape of the order service's errors, which it passes on unchanged: a client parses one
// error format whichever hop answered.

import { CommonErrorCodes } from '@goreliable/example-service-kit'

export { type ErrorBody, HttpError, installErrorHandlers } from '@goreliable/example-service-kit'

/** Error codes of the gateway's own answers, besides @goreliable/fastify's 503 codes. */
export const GatewayErrorCodes = {
  ...CommonErrorCodes,
  INVALID_CLIENT: 'INVALID_CLIENT',
  MISSING_TOKEN: 'MISSING_TOKEN',
  INVALID_TOKEN: 'INVALID_TOKEN',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
} as const
