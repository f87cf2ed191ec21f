// A stand-in for the gateway: the two routes the scenario calls, on 127.0.0.1, with failures on demand.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface StandInOptions {
  /** Every `errorEvery`-th order is answered 500 (0: never). */
  errorEvery?: number
  /** Added before each order is answered. */
  delayMs?: number
  /** Tokens are refused. */
  refuseTokens?: boolean
}

export interface StandIn {
  url: string
  /** What the stand-in saw: orders answered, and requests that broke the scenario's contract. */
  seen: { tokens: number; orders: number; withoutToken: number; badBodies: number; duplicateKeys: number }
  close(): Promise<void>
}

const TOKEN = 'stand-in-token'

export async function startStandIn(o: StandInOptions = {}): Promise<StandIn> {
  const seen = { tokens: 0, orders: 0, withoutToken: 0, badBodies: 0, duplicateKeys: 0 }
  const keys = new Set<string>()
  const server: Server = createServer(async (req, res) => {
    const body = await read(req)
    const json = (status: number, value: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value))
    if (req.method === 'POST' && req.url === '/auth/token') {
      const creds = parse(body) as { client_id?: string; client_secret?: string } | undefined
      if (o.refuseTokens || creds?.client_id !== 'demo' || creds.client_secret !== 'demo-secret') {
        return json(401, { message: 'bad client' })
      }
      seen.tokens++
      return json(200, { access_token: TOKEN, token_type: 'Bearer', expires_in: 60 })
    }
    if (req.method === 'POST' && req.url === '/api/v1/orders') {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        seen.withoutToken++
        return json(401, { message: 'no token' })
      }
      const key = req.headers['idempotency-key']
      if (typeof key !== 'string' || keys.has(key)) seen.duplicateKeys++
      else keys.add(key)
      const order = parse(body) as { amount?: unknown; currency?: unknown } | undefined
      if (!Number.isInteger(order?.amount) || typeof order?.currency !== 'string') {
        seen.badBodies++
        return json(400, { message: 'bad body' })
      }
      const n = ++seen.orders
      if (o.delayMs) await new Promise((resolve) => setTimeout(resolve, o.delayMs))
      if (o.errorEvery && n % o.errorEvery === 0) return json(500, { message: 'injected' })
      return json(201, {
        id: `ord_${n}`,
        amount: order!.amount,
        currency: order!.currency,
        status: 'created',
      })
    }
    json(404, { message: 'not found' })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (chunk) => {
      text += chunk
    })
    req.on('end', () => resolve(text))
  })
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
