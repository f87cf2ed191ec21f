// Order creation under load, through the gateway: `k6 run examples/load/k6/orders.js`.
// Settings from the environment (k6 run -e NAME=value, or the k6 service of examples/compose):
//   BASE_URL       the gateway (default http://127.0.0.1:8080)
//   CLIENT_ID      a client of the gateway's AUTH_CLIENTS (default demo)
//   CLIENT_SECRET  its secret (default demo-secret)
// Ramps to 100 virtual users over 2 minutes, holds 5, ramps down over 1. k6 exits non-zero when a threshold
// fails, so the script can gate a deployment.
import { check, sleep } from 'k6'
import http from 'k6/http'
import { Rate } from 'k6/metrics'

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '')
const CLIENT_ID = __ENV.CLIENT_ID || 'demo'
const CLIENT_SECRET = __ENV.CLIENT_SECRET || 'demo-secret'

// A fixed list of ISO 4217 codes the order service accepts.
const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF']
// Amounts are integer cents, 100 to 10,000,000; stay well inside.
const MIN_AMOUNT_CENTS = 100
const MAX_AMOUNT_CENTS = 500000
// Fetch a new token this long before the current one expires.
const TOKEN_REFRESH_MARGIN_MS = 30000

/** Share of order attempts that did not end in a created order (any status but 201, or no id in the body). */
export const orderErrors = new Rate('order_errors')

export const options = {
  stages: [
    { duration: '2m', target: 100 },
    { duration: '5m', target: 100 },
    { duration: '1m', target: 0 },
  ],
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(99)<500'],
    order_errors: ['rate<0.005'],
  },
}

/** Asks the gateway for a bearer token; throws (ending the test) when it refuses. */
export function fetchToken() {
  const res = http.post(
    `${BASE_URL}/auth/token`,
    JSON.stringify({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
    { headers: { 'Content-Type': 'application/json' }, tags: { name: 'POST /auth/token' } },
  )
  if (res.status !== 200) {
    throw new Error(`POST ${BASE_URL}/auth/token answered ${res.status}: ${res.body}`)
  }
  const body = res.json()
  const token = body.access_token
  if (typeof token !== 'string' || token === '') {
    throw new Error(`POST ${BASE_URL}/auth/token answered without an access_token: ${res.body}`)
  }
  // expires_in is in seconds (OAuth 2.0); without it, assume five minutes.
  const expiresInSeconds = typeof body.expires_in === 'number' ? body.expires_in : 300
  return { token, expiresAt: Date.now() + expiresInSeconds * 1000 }
}

/** Runs once before the load: one token for every virtual user, and a run id for unique idempotency keys. */
export function setup() {
  const runId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
  return Object.assign(fetchToken(), { runId })
}

// Per virtual user: each VU runs its own copy of this module.
let current = null

function bearer(data) {
  if (current === null) current = { token: data.token, expiresAt: data.expiresAt }
  // Tokens are short-lived and the run lasts 8 minutes: renew before expiry rather than failing on a 401.
  if (Date.now() > current.expiresAt - TOKEN_REFRESH_MARGIN_MS) current = fetchToken()
  return current.token
}

export default function (data) {
  const amount = MIN_AMOUNT_CENTS + Math.floor(Math.random() * (MAX_AMOUNT_CENTS - MIN_AMOUNT_CENTS + 1))
  const currency = CURRENCIES[Math.floor(Math.random() * CURRENCIES.length)]
  const res = http.post(`${BASE_URL}/api/v1/orders`, JSON.stringify({ amount, currency }), {
    headers: {
      'Content-Type': 'application/json',
      Authorization: `Bearer ${bearer(data)}`,
      // Unique per attempt: this scenario creates orders; retries of one order would reuse its key.
      'Idempotency-Key': `k6-${data.runId}-${__VU}-${__ITER}`,
    },
    tags: { name: 'POST /api/v1/orders' },
  })
  const created = check(res, {
    'order created (201)': (r) => r.status === 201,
    'order has an id': (r) => r.status === 201 && r.json('id') != null,
  })
  orderErrors.add(!created)
  // Think time: about one order per second per virtual user.
  sleep(0.5 + Math.random())
}
