// The environment contract and the factory's option checks: a bad setting stops the gateway before it
// starts, with a message naming it.

import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  createAuthClients,
  createGateway,
  gatewaySettingsFromEnv,
  parseAuthClients,
} from '../src/index.js'

const SECRET = 'x'.repeat(32)
const minimal = {
  ORDER_SERVICE_URLS: 'http://order-service:8081',
  AUTH_CLIENTS: 'demo:demo-secret',
  JWT_SECRET: SECRET,
}

describe('gatewaySettingsFromEnv', () => {
  it('applies the defaults of the contract', () => {
    expect(gatewaySettingsFromEnv(minimal)).toEqual({
      host: '127.0.0.1',
      port: 8080,
      config: {
        orderServiceUrls: ['http://order-service:8081'],
        orderServiceReadyUrls: [],
        authClients: { demo: 'demo-secret' },
        jwtSecret: SECRET,
        tokenTtlSeconds: 300,
        logLevel: 'info',
        goreliable: { admin: { port: 9464, host: '127.0.0.1', allow: ['127.0.0.1/32', '::1/128'] } },
      },
    })
  })

  it('reads every variable', () => {
    const settings = gatewaySettingsFromEnv({
      ...minimal,
      HOST: '0.0.0.0',
      PORT: '18080',
      ADMIN_PORT: '19464',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_DELAY_MS: '5000',
      PYROSCOPE_URL: 'http://pyroscope:4040',
      ORDER_SERVICE_URLS: 'http://a:8081, http://b:8081',
      ORDER_SERVICE_READY_URLS: 'http://a:9465/readyz,http://b:9465/readyz',
      AUTH_CLIENTS: 'shop:s3cr:et, backoffice:bo',
      TOKEN_TTL_SECONDS: '60',
    })
    expect(settings).toEqual({
      host: '0.0.0.0',
      port: 18080,
      config: {
        orderServiceUrls: ['http://a:8081', 'http://b:8081'],
        orderServiceReadyUrls: ['http://a:9465/readyz', 'http://b:9465/readyz'],
        authClients: { shop: 's3cr:et', backoffice: 'bo' },
        jwtSecret: SECRET,
        tokenTtlSeconds: 60,
        logLevel: 'warn',
        goreliable: {
          admin: {
            port: 19464,
            host: '0.0.0.0',
            allow: ['127.0.0.1/32', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
          },
          shutdown: { drainDelayMs: 5000 },
          profiling: { pyroscope: { serverAddress: 'http://pyroscope:4040' } },
        },
      },
    })
  })

  it.each([
    [{ ...minimal, ORDER_SERVICE_URLS: '' }, 'ORDER_SERVICE_URLS'],
    [{ ...minimal, ORDER_SERVICE_URLS: 'order-service:8081' }, 'ORDER_SERVICE_URLS'],
    [{ ...minimal, ORDER_SERVICE_READY_URLS: 'readyz' }, 'ORDER_SERVICE_READY_URLS'],
    [
      { ...minimal, ORDER_SERVICE_READY_URLS: 'http://a:9465/readyz,http://b:9465/readyz' },
      'ORDER_SERVICE_READY_URLS',
    ],
    [{ ...minimal, AUTH_CLIENTS: undefined }, 'AUTH_CLIENTS'],
    [{ ...minimal, AUTH_CLIENTS: 'demo' }, 'AUTH_CLIENTS'],
    [{ ...minimal, AUTH_CLIENTS: 'a:1,a:2' }, 'AUTH_CLIENTS'],
    [{ ...minimal, JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ ...minimal, JWT_SECRET: undefined }, 'JWT_SECRET'],
    [{ ...minimal, TOKEN_TTL_SECONDS: '0' }, 'TOKEN_TTL_SECONDS'],
    [{ ...minimal, PORT: '-1' }, 'PORT'],
  ])('refuses %j, naming %s', (env, variable) => {
    let error: unknown
    try {
      gatewaySettingsFromEnv(env)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ variable, code: 'CONFIG_INVALID' })
  })

  it('never puts a secret in the message of a bad AUTH_CLIENTS', () => {
    expect(() => gatewaySettingsFromEnv({ ...minimal, AUTH_CLIENTS: 'ok:fine,broken' })).toThrow(/broken/)
    expect(() => parseAuthClients(':hunter2')).toThrow(/":…"/)
  })
})

describe('client credentials', () => {
  it('accepts the right secret only', () => {
    const clients = createAuthClients({ shop: 'shop-secret' })
    expect(clients.verify('shop', 'shop-secret')).toBe(true)
    expect(clients.verify('shop', 'shop-secret ')).toBe(false)
    expect(clients.verify('shop', '')).toBe(false)
    expect(clients.verify('nobody', 'shop-secret')).toBe(false)
    expect(clients.verify('constructor', 'x')).toBe(false)
  })
})

describe('createGateway options', () => {
  const base = { orderServiceUrls: ['http://a:8081'], authClients: { a: 'b' }, jwtSecret: SECRET }
  it.each([
    [{ ...base, orderServiceUrl: 'http://a' }, 'orderServiceUrl'],
    [{ ...base, orderServiceUrls: [] }, 'orderServiceUrls'],
    [{ ...base, orderServiceUrls: ['a:8081'] }, 'orderServiceUrls[0]'],
    [
      { ...base, orderServiceReadyUrls: ['http://a:9465/readyz', 'http://b:9465/readyz'] },
      'orderServiceReadyUrls',
    ],
    [{ ...base, authClients: {} }, 'authClients'],
    [{ ...base, jwtSecret: 'short' }, 'jwtSecret'],
    [{ ...base, breaker: { resetTimeout: 5 } }, 'breaker.resetTimeout'],
    [{ ...base, upstreamTimeoutMs: 0 }, 'upstreamTimeoutMs'],
  ])('rejects %j at creation, naming %s', async (config, option) => {
    // @ts-expect-error: deliberately wrong configs
    await expect(createGateway(config)).rejects.toMatchObject({ code: 'GR_ERR_INVALID_OPTION', option })
  })
})
