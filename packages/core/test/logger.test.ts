import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import { InvalidOptionError } from '../src/errors.js'
import { type CreateLoggerOptions, createLogger, createLoggerOptionKeys } from '../src/logger.js'

type Line = Record<string, unknown>

function capture(options: Omit<CreateLoggerOptions, 'destination'> = { serviceName: 'orders' }) {
  const lines: Line[] = []
  const logger = createLogger({
    ...options,
    destination: { write: (s: string) => lines.push(JSON.parse(s)) },
  })
  return { logger, lines }
}

/** A class instance, as Fastify's request is: the formatter leaves it to the serializer. */
class FakeRequest {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: Record<string, string>,
  ) {}
}

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('createLogger base fields', () => {
  it('writes service, version and pid on every line, and no hostname', () => {
    const { logger, lines } = capture({ serviceName: 'orders', version: '1.2.3' })
    logger.info('hello')
    logger.child({ reqId: 'r1' }).warn('child line')
    expect(lines).toHaveLength(2)
    for (const line of lines) {
      expect(line).toMatchObject({ service: 'orders', version: '1.2.3', pid: process.pid })
      expect(line).not.toHaveProperty('hostname')
    }
    expect(lines[0]).toMatchObject({ level: 30, msg: 'hello' })
    expect(lines[1]).toMatchObject({ level: 40, msg: 'child line', reqId: 'r1' })
  })

  it('takes the version from npm_package_version when none is given, else "unknown"', () => {
    vi.stubEnv('npm_package_version', '4.5.6')
    const fromNpm = capture()
    fromNpm.logger.info('x')
    expect(fromNpm.lines[0]?.version).toBe('4.5.6')

    vi.stubEnv('npm_package_version', undefined)
    const unknown = capture()
    unknown.logger.info('x')
    expect(unknown.lines[0]?.version).toBe('unknown')
  })

  it('logs at info by default and honours level', () => {
    const byDefault = capture()
    byDefault.logger.debug('hidden')
    byDefault.logger.info('shown')
    expect(byDefault.lines.map((l) => l.msg)).toEqual(['shown'])

    const debug = capture({ serviceName: 'orders', level: 'debug' })
    debug.logger.debug('shown')
    debug.logger.trace('hidden')
    expect(debug.lines.map((l) => l.msg)).toEqual(['shown'])

    const silent = capture({ serviceName: 'orders', level: 'silent' })
    silent.logger.fatal('hidden')
    expect(silent.lines).toEqual([])
  })

  it('has every method Fastify checks before accepting a loggerInstance', () => {
    const { logger } = capture()
    for (const method of ['info', 'error', 'debug', 'fatal', 'warn', 'trace', 'child'] as const) {
      expect(typeof logger[method]).toBe('function')
    }
  })
})

describe('createLogger redaction', () => {
  it('redacts fields named like password, secret and token at the top level and one and two levels deep', () => {
    const { logger, lines } = capture()
    logger.info({
      password: 'p0',
      token: 't0',
      user: { name: 'ada', password: 'p1', dbPassword: 'p1b' },
      oauth: { provider: { client_secret: 'c2', accessToken: 'a2', scope: 'read' } },
      users: [{ name: 'bob', passwd: 'p2' }],
    })
    expect(lines[0]).toMatchObject({
      password: '[Redacted]',
      token: '[Redacted]',
      user: { name: 'ada', password: '[Redacted]', dbPassword: '[Redacted]' },
      oauth: { provider: { client_secret: '[Redacted]', accessToken: '[Redacted]', scope: 'read' } },
      users: [{ name: 'bob', passwd: '[Redacted]' }],
    })
    expect(JSON.stringify(lines[0])).not.toMatch(/p0|t0|p1|c2|a2|p2/)
  })

  it('redacts authorization and cookie headers in logged header objects', () => {
    const { logger, lines } = capture()
    logger.info({ headers: { authorization: 'Bearer abc', cookie: 'sid=1', accept: 'text/html' } })
    logger.info({ upstream: { headers: { Authorization: 'Basic xyz', 'x-api-key': 'k' } } })
    logger.info({ res: { headers: { 'set-cookie': ['sid=2'] } } })
    expect(lines[0]?.headers).toEqual({
      authorization: '[Redacted]',
      cookie: '[Redacted]',
      accept: 'text/html',
    })
    expect(lines[1]?.upstream).toEqual({
      headers: { Authorization: '[Redacted]', 'x-api-key': '[Redacted]' },
    })
    expect(lines[2]?.res).toEqual({ headers: { 'set-cookie': '[Redacted]' } })
  })

  it('redacts headers that a serializer adds, through a child built the way Fastify builds it', () => {
    const lines: Line[] = []
    const root = createLogger({
      serviceName: 'orders',
      destination: { write: (s: string) => lines.push(JSON.parse(s)) },
    })
    // Fastify wraps a loggerInstance in `child({}, { serializers })`, then one child per request.
    const app = root.child(
      {},
      {
        serializers: {
          req: (r: FakeRequest) => ({ method: r.method, url: r.url, headers: r.headers }),
          res: (r: { headers: Record<string, unknown> }) => ({ headers: r.headers }),
        },
      },
    )
    const request = app.child({ reqId: 'req-1' })
    request.info(
      { req: new FakeRequest('GET', '/orders', { authorization: 'Bearer abc', cookie: 'sid=1', host: 'h' }) },
      'incoming request',
    )
    request.info(
      { res: { headers: { 'set-cookie': 'sid=2', 'content-type': 'text/plain' } } },
      'request completed',
    )
    expect(lines[0]).toMatchObject({
      reqId: 'req-1',
      req: {
        method: 'GET',
        url: '/orders',
        headers: { authorization: '[Redacted]', cookie: '[Redacted]', host: 'h' },
      },
    })
    expect(lines[1]?.res).toEqual({ headers: { 'set-cookie': '[Redacted]', 'content-type': 'text/plain' } })
  })

  it('redacts secrets in child bindings', () => {
    const { logger, lines } = capture()
    logger.child({ token: 'abc', tenant: 't1' }).info('x')
    expect(lines[0]).toMatchObject({ token: '[Redacted]', tenant: 't1' })
  })

  it('keeps numbers and booleans under secret-looking names, and redacts whole objects', () => {
    const { logger, lines } = capture()
    logger.info({ tokenCount: 3, cookieConsent: true, secrets: { db: 'x' }, session: { token: null } })
    expect(lines[0]).toMatchObject({
      tokenCount: 3,
      cookieConsent: true,
      secrets: '[Redacted]',
      session: { token: null },
    })
  })

  it('redacts fields of class instances, which JSON.stringify writes, but not of ones with toJSON', () => {
    class UserEntity {
      constructor(
        readonly id: number,
        readonly password: string,
      ) {}
      greet() {
        return `hi ${this.id}`
      }
    }
    class Money {
      constructor(readonly token: string) {}
      toJSON() {
        return `${this.token} EUR`
      }
    }
    const { logger, lines } = capture()
    const user = new UserEntity(7, 'hunter2')
    logger.info({ user, price: new Money('12.50'), at: new Date(0) })
    expect(lines[0]).toMatchObject({
      user: { id: 7, password: '[Redacted]' },
      price: '12.50 EUR',
      at: '1970-01-01T00:00:00.000Z',
    })
    expect(user.password).toBe('hunter2')
  })

  it('never modifies the object it was given', () => {
    const { logger } = capture()
    const logged = { user: { password: 'p' }, list: [{ token: 't' }], plain: { a: 1 } }
    const before = structuredClone(logged)
    logger.info(logged)
    expect(logged).toEqual(before)
  })
})

describe('createLogger options', () => {
  it('exports its option keys', () => {
    expect([...createLoggerOptionKeys]).toEqual(['serviceName', 'level', 'version', 'destination'])
  })

  it.each([
    ['serviceName', {}],
    ['serviceName', { serviceName: '' }],
    ['level', { serviceName: 's', level: 'verbose' }],
    ['version', { serviceName: 's', version: 3 }],
    ['destination', { serviceName: 's', destination: {} }],
    ['destination', { serviceName: 's', destination: 'stdout' }],
    ['serviceNme', { serviceNme: 's' }],
  ])('rejects a bad %s with a coded TypeError naming it', (option, options) => {
    let caught: unknown
    try {
      createLogger(options as unknown as CreateLoggerOptions)
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(InvalidOptionError)
    expect(caught).toBeInstanceOf(TypeError)
    expect(caught).toMatchObject({ code: 'GR_ERR_INVALID_OPTION', option })
    expect((caught as Error).message).toContain(`"${option}"`)
  })

  it('rejects options that are not an object', () => {
    expect(() => createLogger(undefined as unknown as CreateLoggerOptions)).toThrow(InvalidOptionError)
  })

  it('types its options', () => {
    expectTypeOf(createLogger).parameter(0).toEqualTypeOf<CreateLoggerOptions>()
    // @ts-expect-error level must be a pino level
    expect(() => createLogger({ serviceName: 's', level: 'verbose' })).toThrow(InvalidOptionError)
    // @ts-expect-error serviceName is required
    expect(() => createLogger({ level: 'info' })).toThrow(InvalidOptionError)
  })
})
