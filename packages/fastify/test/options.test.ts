import { InvalidOptionError } from '@goreliable/core'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { goreliable } from '../src/index.js'
import { resolveOptions } from '../src/options.js'

/** Registers the plugin with `options` and returns what app.ready() rejects with. */
async function registerError(options: unknown): Promise<InvalidOptionError> {
  const app = Fastify()
  app.register(goreliable, options as never)
  try {
    await app.ready()
  } catch (err) {
    await app.close().catch(() => {})
    return err as InvalidOptionError
  }
  await app.close()
  throw new Error('register did not fail')
}

describe('options are validated at register time', () => {
  it.each([
    [{ timeout: 5 }, 'timeout'],
    [{ admin: true }, 'admin'],
    [{ admin: { port: 70000 } }, 'admin.port'],
    [{ admin: { port: -1 } }, 'admin.port'],
    [{ admin: { port: 80.5 } }, 'admin.port'],
    [{ admin: { port: '9464' } }, 'admin.port'],
    [{ admin: { host: '' } }, 'admin.host'],
    [{ admin: { listen: 1 } }, 'admin.listen'],
    [{ admin: { allow: '127.0.0.1/32' } }, 'admin.allow'],
    [{ admin: { allow: ['127.0.0.1/32', '10.0.0.0/33'] } }, 'admin.allow[1]'],
    [{ admin: { allow: ['localhost'] } }, 'admin.allow[0]'],
    [{ admin: { allow: ['10.0.0.0/8x'] } }, 'admin.allow[0]'],
    [{ admin: { allow: ['fd00::/129'] } }, 'admin.allow[0]'],
    [{ admin: { allow: ['10.0.0.0/-1'] } }, 'admin.allow[0]'],
    [{ admin: { allow: [42] } }, 'admin.allow[0]'],
    [{ registry: {} }, 'registry'],
    [{ metrics: 'yes' }, 'metrics'],
    [{ serviceName: '' }, 'serviceName'],
    [{ upstreamRetryAfterSeconds: -1 }, 'upstreamRetryAfterSeconds'],
    [{ upstreamRetryAfterSeconds: 1.5 }, 'upstreamRetryAfterSeconds'],
    [{ shedding: true }, 'shedding'],
    [{ shedding: {} }, 'shedding'],
    [{ shedding: { maxEventLoopUtilization: 1.5 } }, 'shedding.maxEventLoopUtilization'],
    [{ shedding: { maxEventLoopDelayMs: 0 } }, 'shedding.maxEventLoopDelayMs'],
    [{ shedding: { maxEventLoopDelayMs: 50, sampleIntervalMs: 1 } }, 'shedding.sampleIntervalMs'],
    [{ shedding: { maxEventLoopDelayMs: 50, retryAfter: 1 } }, 'shedding.retryAfter'],
    [{ shutdown: true }, 'shutdown'],
    [{ shutdown: { signals: ['SIGKILL'] } }, 'shutdown.signals[0]'],
    [{ shutdown: { signals: ['SIGTERM', 'SIGNOPE'] } }, 'shutdown.signals[1]'],
    [{ shutdown: { signals: 'SIGTERM' } }, 'shutdown.signals'],
    [{ shutdown: { drainDelayMs: -1 } }, 'shutdown.drainDelayMs'],
    [{ shutdown: { timeoutMs: 0 } }, 'shutdown.timeoutMs'],
    [{ shutdown: { exit: 1 } }, 'shutdown.exit'],
    [{ shutdown: { timeout: 1 } }, 'shutdown.timeout'],
    [{ requestLogging: 'yes' }, 'requestLogging'],
    [{ requestLogging: { level: 'verbose' } }, 'requestLogging.level'],
    [{ requestLogging: { lvl: 'info' } }, 'requestLogging.lvl'],
    [{ profiling: { pyroscope: { serverAddress: 'http://p:4040' } } }, 'profiling.pyroscope.appName'],
    [
      { serviceName: 'orders', profiling: { pyroscope: { serverAddress: 'ftp://p' } } },
      'profiling.pyroscope.serverAddress',
    ],
    [{ profiling: { samplingIntervalMicros: 5 } }, 'profiling.samplingIntervalMicros'],
    [{ profiling: { wall: true } }, 'profiling.wall'],
  ])('%o fails with GR_ERR_INVALID_OPTION naming %s', async (options, option) => {
    const err = await registerError(options)
    expect(err).toBeInstanceOf(InvalidOptionError)
    expect(err.code).toBe('GR_ERR_INVALID_OPTION')
    expect(err.option).toBe(option)
  })

  it('leaves no signal listener behind when an option is bad', async () => {
    const before = process.listenerCount('SIGTERM')
    await registerError({ serviceName: 'x', profiling: { pyroscope: { serverAddress: 'nope' } } })
    expect(process.listenerCount('SIGTERM')).toBe(before)
  })
})

describe('defaults', () => {
  it('resolves every default', () => {
    const o = resolveOptions(undefined, {})
    expect(o).toMatchObject({
      admin: { port: 9464, host: '0.0.0.0', allow: ['127.0.0.1/32', '::1/128'] },
      metrics: true,
      upstreamRetryAfterSeconds: 5,
      shedding: false,
      shutdown: { enabled: true, drainDelayMs: 0, timeoutMs: 10_000, signals: ['SIGTERM', 'SIGINT'] },
      requestLogging: false,
      profiling: { pyroscope: undefined },
    })
    expect(resolveOptions({ shedding: { maxEventLoopDelayMs: 100 } }, {}).shedding).toEqual({
      maxEventLoopDelayMs: 100,
      maxEventLoopUtilization: undefined,
      retryAfterSeconds: 1,
      sampleIntervalMs: 500,
    })
    expect(resolveOptions({ requestLogging: true }, {}).requestLogging).toEqual({ level: 'info' })
    expect(resolveOptions({ shutdown: false }, {}).shutdown).toMatchObject({ enabled: false, signals: [] })
  })

  it('drains for 5 s by default inside Kubernetes, where endpoint removals take time to propagate', () => {
    expect(resolveOptions({}, { KUBERNETES_SERVICE_HOST: '10.96.0.1' }).shutdown.drainDelayMs).toBe(5000)
    expect(resolveOptions({}, {}).shutdown.drainDelayMs).toBe(0)
    expect(
      resolveOptions({ shutdown: { drainDelayMs: 100 } }, { KUBERNETES_SERVICE_HOST: '10.96.0.1' }).shutdown
        .drainDelayMs,
    ).toBe(100)
  })

  it('uses serviceName as the Pyroscope application name', () => {
    const o = resolveOptions(
      { serviceName: 'orders', profiling: { pyroscope: { serverAddress: 'http://p:4040' } } },
      {},
    )
    expect(o.profiling.pyroscope).toEqual({ serverAddress: 'http://p:4040', appName: 'orders' })
  })
})
