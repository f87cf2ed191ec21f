import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as errors from '../src/errors.js'

const {
  BreakerOpenError,
  ErrorCodes,
  GoreliableError,
  InvalidOptionError,
  PoolTimeoutError,
  ProfilerBusyError,
  TimeoutError,
  isGoreliableError,
} = errors

describe('error codes', () => {
  it('are stable GR_ERR_ strings, each used once', () => {
    expect(ErrorCodes).toMatchObject({
      INVALID_OPTION: 'GR_ERR_INVALID_OPTION',
      BREAKER_OPEN: 'GR_ERR_BREAKER_OPEN',
      POOL_TIMEOUT: 'GR_ERR_POOL_TIMEOUT',
      PROFILER_BUSY: 'GR_ERR_PROFILER_BUSY',
      CHECK_TIMEOUT: 'GR_ERR_CHECK_TIMEOUT',
      COLLECT_TIMEOUT: 'GR_ERR_COLLECT_TIMEOUT',
      SHUTDOWN_TIMEOUT: 'GR_ERR_SHUTDOWN_TIMEOUT',
    })
    const codes = Object.values(ErrorCodes)
    for (const code of codes) expect(code).toMatch(/^GR_ERR_[A-Z_]+$/)
    expect(new Set(codes).size).toBe(codes.length)
  })
})

describe('error classes', () => {
  it('GoreliableError carries code, statusCode, retryAfterSeconds and cause', () => {
    const cause = new Error('socket hang up')
    const err = new GoreliableError('GR_ERR_EXAMPLE', 'upstream failed', {
      statusCode: 502,
      retryAfterSeconds: 4,
      cause,
    })
    expect(err).toBeInstanceOf(Error)
    expect(err).toMatchObject({
      name: 'GoreliableError',
      code: 'GR_ERR_EXAMPLE',
      message: 'upstream failed',
      statusCode: 502,
      retryAfterSeconds: 4,
    })
    expect(err.cause).toBe(cause)
    expect(isGoreliableError(err)).toBe(true)

    const bare = new GoreliableError('GR_ERR_EXAMPLE', 'no http')
    expect(bare.statusCode).toBeUndefined()
    expect(bare.retryAfterSeconds).toBeUndefined()
    expect('cause' in bare).toBe(false)
  })

  it('InvalidOptionError is a coded TypeError that names the option', () => {
    const err = new InvalidOptionError('timeoutMs', 'a finite number >= 0', -5)
    expect(err).toBeInstanceOf(TypeError)
    expect(err).toMatchObject({
      name: 'InvalidOptionError',
      code: 'GR_ERR_INVALID_OPTION',
      option: 'timeoutMs',
    })
    expect(err.message).toBe('Invalid option "timeoutMs": expected a finite number >= 0, received -5')
    expect(isGoreliableError(err)).toBe(true)
  })

  it.each([
    [undefined, ''],
    ['short', ', received "short"'],
    ['x'.repeat(50), `, received "${'x'.repeat(40)}…"`],
    [() => 1, ', received a function'],
    [null, ', received null'],
    [[1], ', received an array'],
    [{ a: 1 }, ', received object'],
    [true, ', received true'],
  ])('InvalidOptionError describes a received %o', (received, suffix) => {
    expect(new InvalidOptionError('name', 'a string', received).message).toBe(
      `Invalid option "name": expected a string${suffix}`,
    )
  })

  it('BreakerOpenError answers 503 with the seconds until half-open', () => {
    const err = new BreakerOpenError('orders', 7)
    expect(err).toBeInstanceOf(GoreliableError)
    expect(err).toMatchObject({
      name: 'BreakerOpenError',
      code: 'GR_ERR_BREAKER_OPEN',
      statusCode: 503,
      retryAfterSeconds: 7,
      breakerName: 'orders',
    })
    expect(err.message).toContain('"orders"')
    expect(isGoreliableError(err)).toBe(true)
  })

  it('PoolTimeoutError answers 503, retry after 1 s unless told, and keeps its cause', () => {
    const err = new PoolTimeoutError('db', 2000)
    expect(err).toMatchObject({
      name: 'PoolTimeoutError',
      code: 'GR_ERR_POOL_TIMEOUT',
      statusCode: 503,
      retryAfterSeconds: 1,
      poolName: 'db',
    })
    expect(err.message).toContain('2000 ms')
    const cause = new Error('ResourceRequest timed out')
    const later = new PoolTimeoutError('db', 2000, 3, cause)
    expect(later.retryAfterSeconds).toBe(3)
    expect(later.cause).toBe(cause)
    expect(isGoreliableError(later)).toBe(true)
  })

  it('ProfilerBusyError answers 409', () => {
    const err = new ProfilerBusyError()
    expect(err).toMatchObject({ name: 'ProfilerBusyError', code: 'GR_ERR_PROFILER_BUSY', statusCode: 409 })
    expect(err.retryAfterSeconds).toBeUndefined()
    expect(isGoreliableError(err)).toBe(true)
  })

  it('TimeoutError carries the code it is given and the limit in its message', () => {
    const err = new TimeoutError(ErrorCodes.CHECK_TIMEOUT, 'Check "db"', 500)
    expect(err).toMatchObject({ name: 'TimeoutError', code: 'GR_ERR_CHECK_TIMEOUT', statusCode: undefined })
    expect(err.message).toBe('Check "db" did not finish within 500 ms')
    expect(isGoreliableError(err)).toBe(true)
  })
})

describe('isGoreliableError', () => {
  it.each([
    ['an Error', new Error('x')],
    ['a TypeError', new TypeError('x')],
    ['an object with a GR_ERR_ code', { code: 'GR_ERR_BREAKER_OPEN', statusCode: 503 }],
    ['an object whose brand is not true', { [Symbol.for('goreliable.error')]: 'yes' }],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'GR_ERR_BREAKER_OPEN'],
    ['a number', 503],
  ])('is false for %s', (_, value) => {
    expect(isGoreliableError(value)).toBe(false)
  })

  describe('across two copies of the module (a duplicate install)', () => {
    let dir: string
    let other: typeof errors

    beforeAll(async () => {
      // The test task builds first; a copy of the built file is what a second node_modules would hold.
      dir = mkdtempSync(join(tmpdir(), 'goreliable-errors-'))
      const target = join(dir, 'errors.mjs')
      copyFileSync(fileURLToPath(new URL('../dist/errors.js', import.meta.url)), target)
      copyFileSync(
        fileURLToPath(new URL('../dist/errors.js.map', import.meta.url)),
        join(dir, 'errors.js.map'),
      )
      other = (await import(pathToFileURL(target).href)) as typeof errors
    })

    afterAll(() => {
      rmSync(dir, { recursive: true, force: true })
    })

    it('has classes of its own, so instanceof fails across copies', () => {
      expect(other.BreakerOpenError).not.toBe(BreakerOpenError)
      expect(new other.BreakerOpenError('orders', 3)).not.toBeInstanceOf(BreakerOpenError)
    })

    it("recognises the other copy's errors, both ways", () => {
      const fromOther = [
        new other.GoreliableError('GR_ERR_EXAMPLE', 'x'),
        new other.InvalidOptionError('name', 'a string'),
        new other.BreakerOpenError('orders', 3),
        new other.PoolTimeoutError('db', 100),
        new other.ProfilerBusyError(),
        new other.TimeoutError(other.ErrorCodes.COLLECT_TIMEOUT, 'Collect', 100),
      ]
      for (const err of fromOther) expect(isGoreliableError(err)).toBe(true)

      const fromThis = [
        new GoreliableError('GR_ERR_EXAMPLE', 'x'),
        new InvalidOptionError('name', 'a string'),
        new BreakerOpenError('orders', 3),
        new PoolTimeoutError('db', 100),
        new ProfilerBusyError(),
        new TimeoutError(ErrorCodes.COLLECT_TIMEOUT, 'Collect', 100),
      ]
      for (const err of fromThis) expect(other.isGoreliableError(err)).toBe(true)

      expect(other.isGoreliableError(new Error('plain'))).toBe(false)
      expect(new other.BreakerOpenError('orders', 3)).toMatchObject({
        code: 'GR_ERR_BREAKER_OPEN',
        statusCode: 503,
      })
    })
  })
})
