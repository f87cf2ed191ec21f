// The configuration: the environment contract of the stack, defaults, and refusals that name the culprit.
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  configFromEnv,
  createNotificationWorker,
  decodeOrderCreated,
  defaultAdminAllow,
  type NotificationWorkerConfig,
} from '../src/index.js'

const base = { natsUrl: 'nats://127.0.0.1:4222', emailProviderUrl: 'http://127.0.0.1:8082' }

describe('configFromEnv', () => {
  it('reads the contract of examples/demo, compose and k8s', () => {
    expect(
      configFromEnv({
        HOST: '0.0.0.0',
        ADMIN_PORT: '9466',
        NATS_URL: 'nats://nats:4222',
        EMAIL_PROVIDER_URL: 'http://email-provider:8082',
        LOG_LEVEL: 'warn',
        SHUTDOWN_DRAIN_DELAY_MS: '0',
        PYROSCOPE_URL: 'http://pyroscope:4040',
      }),
    ).toEqual({
      host: '0.0.0.0',
      adminPort: 9466,
      natsUrl: 'nats://nats:4222',
      emailProviderUrl: 'http://email-provider:8082',
      logLevel: 'warn',
      drainDelayMs: 0,
      pyroscopeUrl: 'http://pyroscope:4040',
    })
  })

  it('falls back to the local stack for unset or empty variables', () => {
    expect(configFromEnv({ PYROSCOPE_URL: '', LOG_LEVEL: ' ' })).toEqual(base)
  })

  it.each([
    ['ADMIN_PORT', '94a66'],
    ['ADMIN_PORT', '70000'],
    ['SHUTDOWN_DRAIN_DELAY_MS', '-1'],
    ['LOG_LEVEL', 'loud'],
    ['EMAIL_PROVIDER_URL', 'ftp://mail'],
    ['PYROSCOPE_URL', 'not a url'],
    ['NATS_URL', 'nats://a:4222,,nats://b:4222'],
  ])('refuses %s=%s, naming it', (variable, value) => {
    expect(() => configFromEnv({ [variable]: value })).toThrow(
      expect.objectContaining({ code: 'NOTIFY_INVALID_ENV', variable }),
    )
  })
})

describe('createNotificationWorker options', () => {
  it.each([
    [{ concurrency: 0 }, 'concurrency'],
    [{ adminPort: 65_536 }, 'adminPort'],
    [{ breaker: { resetTimeout: 1 } }, 'breaker.resetTimeout'],
    [{ stopTimeoutMs: 10_000 }, 'stopTimeoutMs'],
    [{ streamSubjects: [] }, 'streamSubjects'],
    [{ logLevel: 'loud' }, 'logLevel'],
  ])('refuses %o at creation', (bad, option) => {
    expect(() => createNotificationWorker({ ...base, ...(bad as object) })).toThrow(
      expect.objectContaining({ code: 'GR_ERR_INVALID_OPTION', option }),
    )
  })

  it('is typed: unknown keys and wrong types do not compile', () => {
    expectTypeOf(createNotificationWorker).parameter(0).toEqualTypeOf<NotificationWorkerConfig>()
    // @ts-expect-error natsUrl is required
    expect(() => createNotificationWorker({ emailProviderUrl: 'http://x' })).toThrow()
    // @ts-expect-error concurrency is a number
    expect(() => createNotificationWorker({ ...base, concurrency: '4' })).toThrow()
  })

  it('opens /metrics to private networks only when bound beyond loopback', () => {
    expect(defaultAdminAllow('127.0.0.1')).toEqual(['127.0.0.1/32', '::1/128'])
    expect(defaultAdminAllow('0.0.0.0')).toContain('10.0.0.0/8')
  })
})

describe('decodeOrderCreated', () => {
  const encode = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v))

  it('reads id, amount and currency and ignores the rest', () => {
    expect(
      decodeOrderCreated(encode({ id: 'ord_1', amount: 1250, currency: 'EUR', status: 'created' })),
    ).toEqual({
      id: 'ord_1',
      amount: 1250,
      currency: 'EUR',
    })
  })

  it.each([
    'not json',
    '[]',
    { amount: 1, currency: 'EUR' },
    { id: 'has space', amount: 1, currency: 'EUR' },
    { id: 'a'.repeat(256), amount: 1, currency: 'EUR' },
    { id: 'ord_1', amount: 1.5, currency: 'EUR' },
    { id: 'ord_1', amount: 1, currency: 'eur' },
  ])('refuses %o with NOTIFY_INVALID_ORDER', (payload) => {
    expect(() => decodeOrderCreated(encode(payload))).toThrow(
      expect.objectContaining({ code: 'NOTIFY_INVALID_ORDER' }),
    )
  })
})
