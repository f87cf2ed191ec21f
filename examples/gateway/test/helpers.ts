// Builds gateways for the tests: in-process, listening on free ports, quiet, and stopped with the same
// sequence SIGTERM runs.

import type { FastifyInstance } from 'fastify'
import { createGateway, type GatewayConfig } from '../src/index.js'

export const JWT_SECRET = 'test-secret-0123456789abcdef0123456789'
export const CLIENTS = { shop: 'shop-secret', backoffice: 'bo-secret' }

export interface RunningGateway {
  app: FastifyInstance
  url: string
  adminUrl: string
  stop(): Promise<void>
}

export async function startGateway(
  config: Partial<GatewayConfig> & Pick<GatewayConfig, 'orderServiceUrls'>,
): Promise<RunningGateway> {
  const app = await createGateway({
    authClients: CLIENTS,
    jwtSecret: JWT_SECRET,
    logLevel: 'silent',
    ...config,
    goreliable: {
      admin: { port: 0, host: '127.0.0.1' },
      shutdown: { signals: [], exit: () => undefined },
      ...config.goreliable,
    },
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const admin = app.goreliable.adminAddress()
  let stopped: Promise<void> | undefined
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${admin?.port}`,
    stop: () => {
      stopped ??= app.goreliable.shutdown.shutdown('test').then(() => undefined)
      return stopped
    },
  }
}

/** A token for `client` from the gateway's own endpoint. */
export async function token(gatewayUrl: string, client: keyof typeof CLIENTS = 'shop'): Promise<string> {
  const res = await fetch(`${gatewayUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: client, client_secret: CLIENTS[client] }),
  })
  if (res.status !== 200) throw new Error(`token: ${res.status}`)
  return ((await res.json()) as { access_token: string }).access_token
}

/** The value of the one sample of `name` whose labels include `labels`, from Prometheus text. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3])
  }
  return undefined
}

export async function metrics(gateway: RunningGateway): Promise<string> {
  return (await fetch(`${gateway.adminUrl}/metrics`)).text()
}
