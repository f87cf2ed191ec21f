// The services' environment is a contract with examples/gateway, order-service and notification-worker:
// this test pins it, and docs.test.ts checks the README's table names every variable.
import { describe, expect, it } from 'vitest'
import {
  defaultEntries,
  defaultPorts,
  readinessUrls,
  serviceNames,
  stackEnv,
  stackSpecs,
} from '../src/index.js'

const config = {
  ports: { ...defaultPorts },
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/goreliable_demo',
  natsUrl: 'nats://127.0.0.1:4222',
  databasePoolMax: 10,
  jwtSecret: 's3cret',
  authClients: 'demo:demo-secret',
  logLevel: 'warn',
}

describe('the stack environment', () => {
  it('gives each service exactly the variables of the contract', () => {
    const env = stackEnv(config)
    expect(env['email-provider']).toEqual({ HOST: '127.0.0.1', LOG_LEVEL: 'warn', PORT: '8082' })
    expect(env['order-service']).toEqual({
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
      PORT: '8081',
      ADMIN_PORT: '9465',
      DATABASE_URL: config.databaseUrl,
      DATABASE_POOL_MAX: '10',
      NATS_URL: config.natsUrl,
    })
    expect(env['notification-worker']).toEqual({
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
      ADMIN_PORT: '9466',
      NATS_URL: config.natsUrl,
      EMAIL_PROVIDER_URL: 'http://127.0.0.1:8082',
    })
    expect(env.gateway).toEqual({
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
      PORT: '8080',
      ADMIN_PORT: '9464',
      ORDER_SERVICE_URLS: 'http://127.0.0.1:8081',
      ORDER_SERVICE_READY_URLS: 'http://127.0.0.1:9465/readyz',
      AUTH_CLIENTS: 'demo:demo-secret',
      JWT_SECRET: 's3cret',
    })
  })

  it('passes moved ports consistently to the service and to those that call it', () => {
    const env = stackEnv({ ...config, ports: { ...defaultPorts, orderService: 18081, emailProvider: 18082 } })
    expect(env['order-service'].PORT).toBe('18081')
    expect(env.gateway.ORDER_SERVICE_URLS).toBe('http://127.0.0.1:18081')
    expect(env['email-provider'].PORT).toBe('18082')
    expect(env['notification-worker'].EMAIL_PROVIDER_URL).toBe('http://127.0.0.1:18082')
  })

  it('starts dependencies first and waits on each readiness URL', () => {
    const specs = stackSpecs(config)
    expect(specs.map((s) => s.name)).toEqual([...serviceNames])
    expect(serviceNames).toEqual(['email-provider', 'order-service', 'notification-worker', 'gateway'])
    expect(readinessUrls(defaultPorts)).toEqual({
      'email-provider': 'http://127.0.0.1:8082/control',
      'order-service': 'http://127.0.0.1:9465/readyz',
      'notification-worker': 'http://127.0.0.1:9466/readyz',
      gateway: 'http://127.0.0.1:9464/readyz',
    })
    expect(defaultEntries().gateway).toMatch(/examples\/gateway\/dist\/main\.js$/)
    expect(defaultEntries()['email-provider']).toMatch(/examples\/email-provider\/dist\/main\.js$/)
  })
})
