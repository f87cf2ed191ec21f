// The public routes: POST /api/v1/orders and GET /api/v1/orders/:id.

import type { FastifyInstance } from 'fastify'
import { CURRENCIES, MAX_AMOUNT_CENTS, MIN_AMOUNT_CENTS } from './currencies.js'
import { HttpError, OrderServiceErrorCodes } from './http-errors.js'
import { parseIdempotencyKey } from './idempotency.js'
import type { OrderInput, OrderStore } from './order-store.js'

/** The header the gateway sets to the authenticated client's id; idempotency keys are scoped by it. */
export const CLIENT_ID_HEADER = 'x-client-id'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const CLIENT_ID = /^[\x21-\x7e]{1,200}$/

const orderBody = {
  type: 'object',
  required: ['amount', 'currency'],
  additionalProperties: false,
  properties: {
    amount: { type: 'integer', minimum: MIN_AMOUNT_CENTS, maximum: MAX_AMOUNT_CENTS },
    currency: { type: 'string', enum: CURRENCIES },
  },
} as const

// Also the serializer's schema (fast-json-stringify), so nothing but these fields can ever leave.
const order = {
  type: 'object',
  required: ['id', 'amount', 'currency', 'status', 'createdAt'],
  properties: {
    id: { type: 'string' },
    amount: { type: 'integer' },
    currency: { type: 'string' },
    status: { type: 'string' },
    createdAt: { type: 'string' },
  },
} as const

/** Registers the order routes; `onCreated` runs after each new order's transaction committed. */
export function registerOrderRoutes(app: FastifyInstance, store: OrderStore, onCreated: () => void): void {
  app.post<{ Body: OrderInput }>(
    '/api/v1/orders',
    { schema: { body: orderBody, response: { 201: order } } },
    async (request, reply) => {
      const idempotencyKey = parseIdempotencyKey(request.headers['idempotency-key'])
      const clientId = parseClientId(request.headers[CLIENT_ID_HEADER])
      const { order: created, replayed } = await store.create(request.body, { clientId, idempotencyKey })
      if (!replayed) onCreated()
      // A replay answers exactly what the first request got, so a client retrying after a lost answer
      // cannot tell the difference, except by this header.
      reply.code(201).header('location', `/api/v1/orders/${created.id}`)
      if (replayed) reply.header('idempotent-replayed', 'true')
      return created
    },
  )

  app.get<{ Params: { id: string } }>(
    '/api/v1/orders/:id',
    { schema: { response: { 200: order } } },
    async (request) => {
      const { id } = request.params
      if (!UUID.test(id)) {
        throw new HttpError(400, OrderServiceErrorCodes.VALIDATION_FAILED, 'id must be a UUID', 'id')
      }
      const found = await store.get(id)
      if (found === undefined) {
        throw new HttpError(404, OrderServiceErrorCodes.ORDER_NOT_FOUND, `no order with id ${id}`, 'id')
      }
      return found
    },
  )
}

function parseClientId(header: string | string[] | undefined): string {
  if (header === undefined) return ''
  if (typeof header === 'string' && CLIENT_ID.test(header)) return header
  throw new HttpError(
    400,
    OrderServiceErrorCodes.VALIDATION_FAILED,
    'X-Client-Id must be 1 to 200 visible ASCII characters, given once',
    'X-Client-Id',
  )
}
