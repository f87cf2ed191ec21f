// Tokens: POST /auth/token, and the bearer check on every /api/v1 route. A refused request never reaches
// the order service.

import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../src/index.js'
import { CLIENTS, JWT_SECRET, type RunningGateway, startGateway, token } from './helpers.js'
import { type StubUpstream, startStubUpstream } from './stub-upstream.js'

const key = new TextEncoder().encode(JWT_SECRET)
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

function sign(
  claims: { exp?: number; aud?: string; iss?: string; sub?: string },
  secret = key,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub ?? 'shop')
    .setIssuer(claims.iss ?? TOKEN_ISSUER)
    .setAudience(claims.aud ?? TOKEN_AUDIENCE)
    .setIssuedAt(now - 600)
    .setExpirationTime(claims.exp ?? now + 300)
    .sign(secret)
}

describe('tokens', () => {
  let upstream: StubUpstream
  let gateway: RunningGateway

  beforeAll(async () => {
    upstream = await startStubUpstream({ status: 200, body: { id: 'x' } })
    gateway = await startGateway({ orderServiceUrls: [upstream.url] })
  })
  afterAll(async () => {
    await gateway?.stop()
    await upstream?.close()
  })

  const issue = (body: unknown, contentType = 'application/json') =>
    fetch(`${gateway.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  const getOrder = (authorization?: string) =>
    fetch(`${gateway.url}/api/v1/orders/3f1c2b9e-4a7d-4c1e-9b2a-8d6e5f4a3b2c`, {
      headers: authorization === undefined ? {} : { authorization },
    })

  it('issues a short-lived HS256 bearer token for a known client', async () => {
    const res = await issue({ client_id: 'shop', client_secret: CLIENTS.shop })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number }
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300 })
    const [header, payload] = body.access_token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()))
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' })
    expect(payload).toMatchObject({ sub: 'shop', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE })
    expect(payload.exp - payload.iat).toBe(300)
    expect((await getOrder(`Bearer ${body.access_token}`)).status).toBe(200)
  })

  it.each([
    ['a wrong secret', { client_id: 'shop', client_secret: 'nope' }],
    ['an unknown client', { client_id: 'eve', client_secret: CLIENTS.shop }],
    ["another client's secret", { client_id: 'shop', client_secret: CLIENTS.backoffice }],
  ])('answers 401 INVALID_CLIENT for %s', async (_what, body) => {
    const res = await issue(body)
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({
      statusCode: 401,
      code: 'INVALID_CLIENT',
      error: 'Unauthorized',
      message: 'unknown client or wrong secret',
    })
  })

  it.each([
    ['a missing client_secret', { client_id: 'shop' }, 'client_secret'],
    ['a missing client_id', { client_secret: 'x' }, 'client_id'],
    ['a numeric client_id', { client_id: 7, client_secret: 'x' }, 'client_id'],
    ['an empty client_secret', { client_id: 'shop', client_secret: '' }, 'client_secret'],
    ['a body that is not JSON', '{"client_id":', 'body'],
    ['an array', [], 'body'],
  ])('answers 400 naming the field for %s', async (_what, body, field) => {
    const res = await issue(body)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ statusCode: 400, field })
  })

  it('answers 415 for a token request that is not JSON', async () => {
    const res = await issue('client_id=shop&client_secret=shop-secret', 'application/x-www-form-urlencoded')
    expect(res.status).toBe(415)
    expect(await res.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' })
    expect((await issue('{}', 'text/plain')).status).toBe(415)
  })

  it('answers 401 MISSING_TOKEN without a token, with WWW-Authenticate', async () => {
    const res = await getOrder()
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="goreliable-example"')
    expect(await res.json()).toMatchObject({ code: 'MISSING_TOKEN' })
  })

  it('answers 401 TOKEN_EXPIRED for an expired token', async () => {
    const expired = await sign({ exp: Math.floor(Date.now() / 1000) - 10 })
    const res = await getOrder(`Bearer ${expired}`)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"')
    expect(await res.json()).toMatchObject({ code: 'TOKEN_EXPIRED' })
  })

  it('answers 401 INVALID_TOKEN for tampered, forged and malformed tokens', async () => {
    const good = await token(gateway.url)
    const [h, p, s] = good.split('.') as [string, string, string]
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString())
    const cases: Record<string, string> = {
      'payload changed, signature kept': `Bearer ${h}.${b64({ ...payload, sub: 'backoffice' })}.${s}`,
      'signature changed': `Bearer ${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`,
      'signed with another secret': `Bearer ${await sign({}, new TextEncoder().encode('x'.repeat(40)))}`,
      'alg none': `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
      'another audience': `Bearer ${await sign({ aud: 'someone-else' })}`,
      'another issuer': `Bearer ${await sign({ iss: 'someone-else' })}`,
      'not a JWT': 'Bearer not-a-token',
      'another scheme': `Basic ${Buffer.from('shop:shop-secret').toString('base64')}`,
      'no token after Bearer': 'Bearer ',
    }
    for (const [what, authorization] of Object.entries(cases)) {
      const res = await getOrder(authorization)
      expect(res.status, what).toBe(401)
      expect(((await res.json()) as { code: string }).code, what).toBe('INVALID_TOKEN')
    }
  })

  it('never forwards a request it refused', async () => {
    const before = upstream.received.length
    await getOrder()
    await getOrder('Bearer nope')
    await fetch(`${gateway.url}/api/v1/orders`, { method: 'POST', body: '{"amount":100,"currency":"EUR"}' })
    expect(upstream.received.length).toBe(before)
  })

  it('refuses a token once its lifetime has passed', async () => {
    // 2 s, not 1: `iat` is in whole seconds, so a 1 s token issued late in a second could expire at once.
    const shortLived = await startGateway({ orderServiceUrls: [upstream.url], tokenTtlSeconds: 2 })
    try {
      const t = await token(shortLived.url)
      const at = (path: string) =>
        fetch(`${shortLived.url}${path}`, { headers: { authorization: `Bearer ${t}` } })
      expect((await at('/api/v1/orders/3f1c2b9e-4a7d-4c1e-9b2a-8d6e5f4a3b2c')).status).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, 3100))
      const res = await at('/api/v1/orders/3f1c2b9e-4a7d-4c1e-9b2a-8d6e5f4a3b2c')
      expect(res.status).toBe(401)
      expect(await res.json()).toMatchObject({ code: 'TOKEN_EXPIRED' })
    } finally {
      await shortLived.stop()
    }
  })
})
