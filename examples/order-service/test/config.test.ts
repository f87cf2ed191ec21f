// The environment contract and the factory's option checks: a bad setting stops the service before it
// starts, with a message naming it.

import { describe, expect, it } from 'vitest'
import { ConfigError, createOrderService, orderServiceSettingsFromEnv } from '../src/index.js'

const minimal = { DATABASE_URL: 'postgres://u@db:5432/orders', NATS_URL: 'nats://nats:4222' }

describe('orderServiceSettingsFromEnv', () => {
  it('applies the defaults of the contract', () => {
    expect(orderServiceSettingsFromEnv(minimal)).toEqual({
      host: '127.0.0.1',
      port: 8081,
      config: {
        databaseUrl: minimal.DATABASE_URL,
        databasePoolMax: 10,
        natsUrl: minimal.NATS_URL,
        logLevel: 'info',
        goreliable: { admin: { port: 9465, host: '127.0.0.1', allow: ['127.0.0.1/32', '::1/128'] } },
      },
    })
  })

  it('reads every variable', () => {
    const settings = orderServiceSettingsFromEnv({
      ...minimal,
      HOST: '0.0.0.0',
      PORT: '18081',
      ADMIN_PORT: '19465',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
      PYROSCOPE_URL: 'http://pyroscope:4040',
      DATABASE_POOL_MAX: '1',
      DATABASE_SCHEMA: 'orders_demo',
    })
    expect(settings).toEqual({
      host: '0.0.0.0',
      port: 18081,
      config: {
        databaseUrl: minimal.DATABASE_URL,
        databasePoolMax: 1,
        databaseSchema: 'orders_demo',
        natsUrl: minimal.NATS_URL,
        logLevel: 'warn',
        goreliable: {
          admin: {
            port: 19465,
            host: '0.0.0.0',
            allow: ['127.0.0.1/32', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
          },
          shutdown: { drainDelayMs: 0 },
          profiling: { pyroscope: { serverAddress: 'http://pyroscope:4040' } },
        },
      },
    })
  })

  it.each([
    [{ NATS_URL: 'nats://n:4222' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://x' }, 'NATS_URL'],
    [{ ...minimal, PORT: 'eighty' }, 'PORT'],
    [{ ...minimal, ADMIN_PORT: '70000' }, 'ADMIN_PORT'],
    [{ ...minimal, DATABASE_POOL_MAX: '0' }, 'DATABASE_POOL_MAX'],
    [{ ...minimal, DATABASE_SCHEMA: 'Orders; DROP' }, 'DATABASE_SCHEMA'],
    [{ ...minimal, SHUTDOWN_DRAIN_DELAY_MS: '-1' }, 'SHUTDOWN_DRAIN_DELAY_MS'],
    [{ ...minimal, PYROSCOPE_URL: 'pyroscope:4040' }, 'PYROSCOPE_URL'],
  ])('refuses %j, naming %s', (env, variable) => {
    let error: unknown
    try {
      orderServiceSettingsFromEnv(env)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ variable, code: 'CONFIG_INVALID' })
    expect((error as Error).message.startsWith(`${variable}: `)).toBe(true)
  })
})

describe('createOrderService options', () => {
  it.each([
    [{ databaseUrl: 'postgres://x', natsUrl: 'nats://x', databseSchema: 'typo' }, 'databseSchema'],
    [{ natsUrl: 'nats://x' }, 'databaseUrl'],
    [{ databaseUrl: 'postgres://x', natsUrl: 'nats://x', databaseSchema: 'Bad-Name' }, 'databaseSchema'],
    [{ databaseUrl: 'postgres://x', natsUrl: 'nats://x', databasePoolMax: 0 }, 'databasePoolMax'],
  ])('rejects %j at creation, naming %s', async (config, option) => {
    // @ts-expect-error: deliberately wrong configs
    await expect(createOrderService(config)).rejects.toMatchObject({ code: 'GR_ERR_INVALID_OPTION', option })
  })
})
