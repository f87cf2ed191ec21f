// Orders in PostgreSQL. Creating one writes the order and its outbox row in one transaction: either both
// exist or neither, so an order can never be saved without the event that announces it.

import { randomUUID } from 'node:crypto'
import { withTransaction } from '@goreliable/pg'
import type { Pool, PoolClient } from 'pg'
import type { Currency } from './currencies.js'
import { HttpError, OrderServiceErrorCodes } from './http-errors.js'
import { requestFingerprint } from './idempotency.js'

/** An order as the API returns it and the `orders.created` event carries it. */
export interface Order {
  /** A UUID. */
  id: string
  /** In cents. */
  amount: number
  currency: Currency
  status: 'pending'
  /** ISO 8601, UTC. */
  createdAt: string
}

/** What a client asks for. */
export interface OrderInput {
  amount: number
  currency: Currency
}

/** Who asks, and under which idempotency key. */
export interface CreateContext {
  /** The client the gateway authenticated (`''` for a call that did not come through it). */
  clientId: string
  idempotencyKey: string | undefined
}

/** The outcome of {@link OrderStore.create}. */
export interface CreateResult {
  order: Order
  /** True when the idempotency key had already created this order: nothing new was written. */
  replayed: boolean
}

/** Reads and writes orders. */
export interface OrderStore {
  /**
   * Creates the order and its outbox row in one transaction, or returns the order an earlier request with
   * the same idempotency key created.
   * @throws HttpError 422 when the key was used before with another body.
   */
  create(input: OrderInput, context: CreateContext): Promise<CreateResult>
  /** The order, or undefined when there is none with this id. */
  get(id: string): Promise<Order | undefined>
}

interface OrderRow {
  id: string
  amount_cents: number
  currency: Currency
  status: 'pending'
  created_at: Date
  request_fingerprint: string | null
}

const COLUMNS = 'id, amount_cents, currency, status, created_at, request_fingerprint'

/** Orders in `schema` (already migrated); events go to the outbox for `subject`. */
export function createOrderStore(pool: Pool, options: { schema: string; subject: string }): OrderStore {
  const { schema, subject } = options
  // Named statements are prepared once per connection; the schema is part of the text, so of the name.
  const insertOrder = {
    name: `insert-order:${schema}`,
    text: `INSERT INTO ${schema}.orders
             (id, amount_cents, currency, status, client_id, idempotency_key, request_fingerprint)
           VALUES ($1, $2, $3, 'pending', $4, $5, $6)
           ON CONFLICT ON CONSTRAINT orders_idempotency_key DO NOTHING
           RETURNING ${COLUMNS}`,
  }
  const insertOutbox = {
    name: `insert-outbox:${schema}`,
    text: `INSERT INTO ${schema}.outbox (order_id, subject, payload) VALUES ($1, $2, $3)`,
  }
  const byKey = {
    name: `order-by-key:${schema}`,
    text: `SELECT ${COLUMNS} FROM ${schema}.orders WHERE client_id = $1 AND idempotency_key = $2`,
  }
  const byId = {
    name: `order-by-id:${schema}`,
    text: `SELECT ${COLUMNS} FROM ${schema}.orders WHERE id = $1`,
  }

  async function existing(client: PoolClient, context: CreateContext, fingerprint: string): Promise<Order> {
    const { rows } = await client.query<OrderRow>({
      ...byKey,
      values: [context.clientId, context.idempotencyKey],
    })
    const row = rows[0]
    // ON CONFLICT waited for the other transaction to commit, so its row is visible to this statement.
    if (row === undefined) throw new Error('idempotency conflict without a row: it was deleted meanwhile')
    if (row.request_fingerprint !== fingerprint) {
      throw new HttpError(
        422,
        OrderServiceErrorCodes.IDEMPOTENCY_KEY_REUSED,
        'this Idempotency-Key was already used with another body: use a new key for a new order',
        'Idempotency-Key',
      )
    }
    return toOrder(row)
  }

  return {
    create(input, context) {
      const fingerprint = requestFingerprint(input)
      return withTransaction(pool, async (client) => {
        const { rows } = await client.query<OrderRow>({
          ...insertOrder,
          values: [
            randomUUID(),
            input.amount,
            input.currency,
            context.clientId,
            context.idempotencyKey ?? null,
            context.idempotencyKey === undefined ? null : fingerprint,
          ],
        })
        const row = rows[0]
        if (row === undefined) return { order: await existing(client, context, fingerprint), replayed: true }
        const order = toOrder(row)
        await client.query({ ...insertOutbox, values: [order.id, subject, JSON.stringify(order)] })
        return { order, replayed: false }
      })
    },
    async get(id) {
      const { rows } = await pool.query<OrderRow>({ ...byId, values: [id] })
      return rows[0] === undefined ? undefined : toOrder(rows[0])
    },
  }
}

function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    amount: row.amount_cents,
    currency: row.currency,
    status: row.status,
    createdAt: row.created_at.toISOString(),
  }
}
