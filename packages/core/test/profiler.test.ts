import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { time } from '@datadog/pprof'
import { pino } from 'pino'
import { Profile } from 'pprof-format'
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest'
import { isGoreliableError, ProfilerBusyError } from '../src/errors.js'
import { createProfiler, type Profiler, type ProfilerLogger, type ProfilerOptions } from '../src/profiler.js'

const handles: Profiler[] = []
function profiler(options?: ProfilerOptions): Profiler {
  const p = createProfiler(options)
  handles.push(p)
  return p
}
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close()))
})

function decode(gzipped: Buffer): Profile {
  return Profile.decode(gunzipSync(gzipped))
}
function sampleTypes(p: Profile): string[] {
  return p.sampleType.map(
    (t) => `${p.stringTable.strings[Number(t.type)]}/${p.stringTable.strings[Number(t.unit)]}`,
  )
}
function total(p: Profile, index: number): number {
  return p.sample.reduce((sum, s) => sum + Number(s.value[index] ?? 0), 0)
}

/** Keeps the main thread busy in short bursts, so wall samples land in JavaScript frames. */
function burnCpu(): () => void {
  const timer = setInterval(() => {
    const end = Date.now() + 15
    let x = 0
    while (Date.now() < end) x += Math.sqrt(x + 1)
  }, 20)
  return () => clearInterval(timer)
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

interface Push {
  query: URLSearchParams
  headers: IncomingHttpHeaders
  profile: Profile
  types: string[]
}

/** A stand-in for Pyroscope on loopback: decodes what arrives, as the real server would. */
async function startReceiver() {
  const pushes: Push[] = []
  const rejected: unknown[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        const profile = decode(Buffer.concat(chunks))
        const query = new URL(req.url ?? '/', 'http://receiver').searchParams
        pushes.push({ query, headers: req.headers, profile, types: sampleTypes(profile) })
        res.end('ok')
      } catch (err) {
        rejected.push(err)
        res.statusCode = 400
        res.end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const wallPushes = () => pushes.filter((p) => p.types.includes('wall/nanoseconds'))
  const heapPushes = () => pushes.filter((p) => p.types.includes('inuse_space/bytes'))
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()))
  return { url: `http://127.0.0.1:${port}`, pushes, wallPushes, heapPushes, rejected, close }
}

describe('on-demand captures', () => {
  it('captures a wall profile that pprof-format decodes, and leaves no sampler running', async () => {
    const stop = burnCpu()
    const buf = await profiler().captureCpuProfile(1).finally(stop)
    expect(buf.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])) // gzip, as `go tool pprof` expects
    const p = decode(buf)
    expect(sampleTypes(p)).toContain('wall/nanoseconds')
    expect(p.sample.length).toBeGreaterThan(0)
    expect(total(p, 0)).toBeGreaterThan(10) // sample counts, at 100 Hz for one second
    expect(time.isStarted()).toBe(false)
  })

  it('captures a heap profile that decodes', async () => {
    const p = profiler()
    await p.captureHeapProfile()
    const keep = Array.from({ length: 20_000 }, (_, i) => ({ i, s: `item-${i}` }))
    const heap = decode(await p.captureHeapProfile())
    expect(sampleTypes(heap)).toEqual(['objects/count', 'space/bytes'])
    expect(heap.sample.length).toBeGreaterThan(0)
    expect(keep.length).toBe(20_000)
  })

  it('refuses a second concurrent CPU capture with ProfilerBusyError (409), also from another handle', async () => {
    const first = profiler().captureCpuProfile(0.3)
    const again = profiler().captureCpuProfile(0.3)
    await expect(again).rejects.toBeInstanceOf(ProfilerBusyError)
    const err = await again.catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'GR_ERR_PROFILER_BUSY', statusCode: 409 })
    expect(isGoreliableError(err)).toBe(true)
    decode(await first)
    decode(await profiler().captureCpuProfile(0.2)) // free again once the first is done
  })

  it('rejects a duration that is not a positive finite number', async () => {
    const p = profiler()
    for (const seconds of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1' as unknown as number]) {
      await expect(p.captureCpuProfile(seconds)).rejects.toMatchObject({
        code: 'GR_ERR_INVALID_OPTION',
        option: 'seconds',
      })
    }
  })

  it('refuses to capture while another library runs the wall profiler', async () => {
    time.start({ intervalMicros: 10_000 })
    try {
      await expect(profiler().captureCpuProfile(0.2)).rejects.toMatchObject({
        code: 'GR_ERR_PROFILER_CONFLICT',
        statusCode: 409,
      })
    } finally {
      time.stop()
    }
  })

  it('close() ends a running capture early and still returns its profile', async () => {
    const p = createProfiler()
    const started = Date.now()
    const capture = p.captureCpuProfile(30)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await p.close()
    decode(await capture)
    expect(Date.now() - started).toBeLessThan(10_000)
    await expect(p.captureCpuProfile(1)).rejects.toMatchObject({ code: 'GR_ERR_PROFILER_CLOSED' })
    await expect(p.start()).rejects.toMatchObject({ code: 'GR_ERR_PROFILER_CLOSED' })
  })
})

describe('continuous profiling to Pyroscope', () => {
  it('pushes decodable wall profiles, keeps pushing through a capture, and pushes heap through @pyroscope/nodejs', async () => {
    const receiver = await startReceiver()
    const stop = burnCpu()
    try {
      const p = profiler({
        pyroscope: {
          serverAddress: receiver.url,
          appName: 'checkout-api',
          tags: { env: 'test', region: 'eu-1' },
          flushIntervalMs: 1000,
          authToken: 's3cret',
        },
      })
      await p.start()
      await waitFor(() => receiver.wallPushes().length >= 1, 5000, 'a first wall push')
      const [push] = receiver.wallPushes()
      if (push === undefined) throw new Error('unreachable')
      expect(push.query.get('format')).toBe('pprof')
      expect(push.query.get('spyName')).toBe('nodespy')
      expect(push.query.get('sampleRate')).toBe('100')
      const name = push.query.get('name') ?? ''
      expect(name.startsWith('checkout-api{')).toBe(true)
      expect(name).toContain('env=test')
      expect(name).toContain('region=eu-1')
      expect(Number(push.query.get('from'))).toBeLessThan(Number(push.query.get('until')))
      expect(push.headers['content-type']).toBe('application/octet-stream')
      expect(push.headers.authorization).toBe('Bearer s3cret')
      expect(push.types).toEqual(['samples/count', 'wall/nanoseconds'])
      expect(push.profile.sample.length).toBeGreaterThan(0)

      const captured = decode(await p.captureCpuProfile(1))
      expect(captured.sample.length).toBeGreaterThan(0)
      // One second, most likely cut by a flush inside it: the segments were merged back into one profile.
      expect(Number(captured.durationNanos)).toBeGreaterThan(0.95e9)
      expect(time.isStarted()).toBe(true) // the capture did not stop the continuous sampler
      const afterCapture = receiver.wallPushes().length
      await waitFor(() => receiver.wallPushes().length >= afterCapture + 2, 6000, 'pushes after the capture')
      expect(p.stats()).toMatchObject({ continuous: true, capturing: false, pushesFailed: 0 })

      decode(await p.captureHeapProfile()) // heap sampling is @pyroscope/nodejs's now, and still readable
      await waitFor(() => receiver.heapPushes().length >= 1, 5000, 'a heap push from @pyroscope/nodejs')
      expect(receiver.heapPushes()[0]?.query.get('name')).toMatch(/^checkout-api\{.*env=test/)

      const beforeClose = receiver.wallPushes().length
      await p.close()
      const walls = receiver.wallPushes()
      expect(walls.length).toBe(beforeClose + 1) // close pushes the last segment
      // The pushes cover their timeline without a gap, the captured second included: the capture stole nothing.
      const pushedNanos = walls.reduce((sum, w) => sum + Number(w.profile.durationNanos), 0)
      const last = walls.at(-1)?.profile
      const spanNanos = Number(last?.timeNanos) + Number(last?.durationNanos) - Number(push.profile.timeNanos)
      expect(pushedNanos).toBeGreaterThan(0.97 * spanNanos)
      expect(pushedNanos).toBeLessThan(1.03 * spanNanos)
      expect(time.isStarted()).toBe(false)
      expect(p.stats().continuous).toBe(false)
      expect(receiver.rejected).toEqual([])
    } finally {
      stop()
      await receiver.close()
    }
  })

  it('survives an unreachable server: failures are counted and logged once, nothing is thrown', async () => {
    const receiver = await startReceiver()
    await receiver.close() // a port that refuses connections
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    const warnings: string[] = []
    try {
      const p = profiler({
        pyroscope: { serverAddress: receiver.url, appName: 'lonely', flushIntervalMs: 1000 },
        logger: { warn: (_obj, msg) => warnings.push(msg) },
      })
      await p.start()
      await waitFor(() => p.stats().pushesFailed >= 2, 6000, 'two failed pushes')
      decode(await p.captureCpuProfile(0.2))
      await p.close()
      expect(warnings).toEqual(['Pyroscope push failed'])
      expect(p.stats().pushesSucceeded).toBe(0)
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})

describe('one owner per process', () => {
  const kOwner = Symbol.for('goreliable.profiler')
  const options = (appName: string, serverAddress: string): ProfilerOptions => ({
    pyroscope: { serverAddress, appName, flushIntervalMs: 60_000 },
  })

  it('shares continuous profiling between same-config handles and refuses a conflicting start', async () => {
    const receiver = await startReceiver()
    try {
      const a = profiler(options('orders', receiver.url))
      const b = profiler(options('orders', receiver.url))
      const c = profiler(options('billing', receiver.url))
      await a.start()
      await b.start()
      const err = await c.start().catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'GR_ERR_PROFILER_CONFLICT', statusCode: 409 })
      expect(isGoreliableError(err)).toBe(true)
      await a.close()
      expect(b.stats().continuous).toBe(true) // b still holds it
      await b.close()
      expect(c.stats().continuous).toBe(false)
      await c.start() // free for another configuration now
      expect(c.stats().continuous).toBe(true)
      await c.close()
      expect((globalThis as Record<symbol, unknown>)[kOwner]).toBeUndefined() // released with the last handle
    } finally {
      await receiver.close()
    }
  })

  it('close() during start() leaves nothing running', async () => {
    const receiver = await startReceiver()
    try {
      const p = createProfiler(options('orders', receiver.url))
      const starting = p.start()
      await p.close()
      await starting
      expect(p.stats().continuous).toBe(false)
      expect(time.isStarted()).toBe(false)
    } finally {
      await receiver.close()
    }
  })

  it('start() without pyroscope options does nothing', async () => {
    const p = profiler()
    await p.start()
    expect(p.stats().continuous).toBe(false)
    expect(time.isStarted()).toBe(false)
  })
})

describe('types', () => {
  it('accepts a pino logger and rejects misspelt options at compile time', () => {
    expectTypeOf(pino({ enabled: false })).toExtend<ProfilerLogger>()
    expectTypeOf<Profiler['captureCpuProfile']>().returns.resolves.toEqualTypeOf<Buffer>()
    const wrong: ProfilerOptions = {
      // @ts-expect-error flushInterval is flushIntervalMs
      pyroscope: { serverAddress: 'http://x', appName: 'a', flushInterval: 1 },
    }
    // @ts-expect-error appName is required
    const missing: ProfilerOptions = { pyroscope: { serverAddress: 'http://x' } }
    expect([wrong, missing]).toHaveLength(2)
  })
})

describe('options', () => {
  const bad: Array<[string, unknown]> = [
    ['pyroscope.serverAddress', { pyroscope: { appName: 'a' } }],
    ['pyroscope.serverAddress', { pyroscope: { appName: 'a', serverAddress: 'ftp://x' } }],
    ['pyroscope.appName', { pyroscope: { serverAddress: 'http://x' } }],
    ['pyroscope.appName', { pyroscope: { serverAddress: 'http://x', appName: 'a{b}' } }],
    ['pyroscope.tags.env', { pyroscope: { serverAddress: 'http://x', appName: 'a', tags: { env: 'a,b' } } }],
    [
      'pyroscope.flushIntervalMs',
      { pyroscope: { serverAddress: 'http://x', appName: 'a', flushIntervalMs: 10 } },
    ],
    ['pyroscope.flush', { pyroscope: { serverAddress: 'http://x', appName: 'a', flush: 1000 } }],
    ['samplingIntervalMicros', { samplingIntervalMicros: 0 }],
    ['logger', { logger: console.log }],
    ['interval', { interval: 1 }],
  ]
  it.each(bad)('rejects a bad %s at creation', (option, options) => {
    expect(() => createProfiler(options as ProfilerOptions)).toThrow(
      expect.objectContaining({ code: 'GR_ERR_INVALID_OPTION', option }),
    )
  })
})
