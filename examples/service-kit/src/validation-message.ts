// Turns Ajv's first validation error into a message a client can act on, naming the field:
// "amount must be an integer", "currency must be one of AED, AUD, ...", "amount is required".

import type { FastifyError, FastifySchemaValidationError } from 'fastify'

/**
 * The field and message of the first error (Fastify's Ajv stops at the first error by default). `field` is
 * the property's path without the leading slash (`amount`), the missing or unexpected property's name, or
 * `context` itself (`body`) when the error is about the whole value.
 */
export function describeValidationError(
  errors: readonly FastifySchemaValidationError[],
  context: FastifyError['validationContext'],
): { field: string; message: string } {
  const first = errors[0]
  const where = context ?? 'body'
  if (first === undefined) return { field: where, message: `${where} is invalid` }
  const params = first.params as Record<string, unknown>
  const path = first.instancePath.replace(/^\//, '').replaceAll('/', '.')
  const field = path || where
  switch (first.keyword) {
    case 'required':
      return {
        field: String(params.missingProperty),
        message: `${String(params.missingProperty)} is required`,
      }
    case 'additionalProperties':
      return {
        field: String(params.additionalProperty),
        message: `${String(params.additionalProperty)} is not allowed`,
      }
    case 'type': {
      const type = String(params.type)
      if (!path && type === 'object') return { field, message: `${where} must be a JSON object` }
      return { field, message: `${field} must be ${type === 'integer' ? 'an' : 'a'} ${type}` }
    }
    case 'minimum':
    case 'maximum':
      return { field, message: `${field} must be ${String(params.comparison)} ${String(params.limit)}` }
    case 'enum':
      return {
        field,
        message: `${field} must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`,
      }
    case 'format':
      return { field, message: `${field} must be a ${String(params.format)}` }
    default:
      return { field, message: `${field} ${first.message ?? 'is invalid'}` }
  }
}
