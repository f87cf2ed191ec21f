// The order service answers errors in the example services' one JSON shape (the service kit's error
// handlers), with messages that name the field to fix.

import { CommonErrorCodes } from '@goreliable/example-service-kit'

export { type ErrorBody, HttpError, installErrorHandlers } from '@goreliable/example-service-kit'

/** Error codes of this service's answers, besides @goreliable/fastify's 503 codes. */
export const OrderServiceErrorCodes = {
  ...CommonErrorCodes,
  ORDER_NOT_FOUND: 'ORDER_NOT_FOUND',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
} as const
