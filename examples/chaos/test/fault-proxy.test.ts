import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createFaultProxy, type FaultProxy } from '../src/index.js'

let echo: Server
let echoPort: number
const proxies: FaultProxy[] = []
const sockets: Socket[] = []

beforeAll(async () => {
  echo = createServer((s) => {
    s.on('error', () => {})
    s.pipe(s)
  })
  echo.listen(0, '127.0.0.1')
  await once(echo, 'listening')
  echoPort = (echo.address() as { port: number }).port
})

afterAll(async () => {
  await new Promise((resolve) => echo.close(resolve))
})

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await Promise.all(proxies.splice(0).map((p) => p.close()))
})

async function proxy(fault?: Parameters<typeof createFaultProxy>[0]['fault']) {
  const p = await createFaultProxy({
    targetHost: '127.0.0.1',
    targetPort: echoPort,
    ...(fault ? { fault } : {}),
  })
  proxies.push(p)
  return p
}

/** A client that records what it reads and how it ended. */
async function client(port: number) {
  const socket = connect({ host: '127.0.0.1', port })
  sockets.push(socket)
  const received: Buffer[] = []
  const ended = { end: false, error: undefined as string | undefined, closed: false }
  socket.on('data', (c: Buffer) => received.push(c))
  socket.on('end', () => {
    ended.end = true
  })
  socket.on('error', (e: NodeJS.ErrnoException) => {
    ended.error = e.code ?? e.message
  })
  socket.on('close', () => {
    ended.closed = true
  })
  // A reset can arrive before the connect completes on the client side: that is an outcome, not a failure.
  await new Promise<void>((resolve) => {
    socket.once('connect', () => resolve())
    socket.once('close', () => resolve())
  })
  return {
    socket,
    ended,
    bytes: () => Buffer.concat(received),
    /** Waits until `n` bytes arrived or the socket closed; resolves with what arrived. */
    async read(n: number, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      while (Buffer.concat(received).length < n && !ended.closed && Date.now() < deadline) await sleep(5)
      return Buffer.concat(received)
    },
    async closed(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      while (!ended.closed && Date.now() < deadline) await sleep(5)
      return ended
    },
  }
}

describe('createFaultProxy', () => {
  it('forwards bytes both ways unchanged in mode none', async () => {
    const p = await proxy()
    const c = await client(p.port)
    const payload = randomBytes(2 * 1024 * 1024)
    c.socket.write(payload)
    const got = await c.read(payload.length, 15_000)
    expect(got.equals(payload)).toBe(true)
    expect(p.stats()).toMatchObject({ accepted: 1, active: 1 })
    expect(p.stats().bytesToTarget).toBe(payload.length)
    expect(p.stats().bytesFromTarget).toBe(payload.length)
  })

  it('adds latency each way and keeps the order of chunks', async () => {
    const p = await proxy({ mode: 'latency', latencyMs: 150 })
    const c = await client(p.port)
    const started = performance.now()
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.from(`${String(i).padStart(3, '0')};`))
    for (const part of parts) c.socket.write(part)
    const expected = Buffer.concat(parts)
    const got = await c.read(expected.length)
    const elapsed = performance.now() - started
    expect(got.toString()).toBe(expected.toString())
    // 150 ms to the target and 150 ms back; generous upper bound for a busy machine.
    expect(elapsed).toBeGreaterThanOrEqual(290)
    expect(elapsed).toBeLessThan(5000)

    p.setFault({ mode: 'none' })
    const again = performance.now()
    c.socket.write('x')
    await c.read(expected.length + 1)
    expect(performance.now() - again).toBeLessThan(250)
  })

  it('blackhole: holds existing and new connections, then delivers what was held when it heals', async () => {
    const p = await proxy()
    const existing = await client(p.port)
    existing.socket.write('before')
    expect((await existing.read(6)).toString()).toBe('before')

    p.setFault({ mode: 'blackhole' })
    existing.socket.write('during')
    const fresh = await client(p.port) // accepted: a partition does not refuse, it swallows
    fresh.socket.write('hello')
    await sleep(400)
    expect(existing.bytes().toString()).toBe('before')
    expect(fresh.bytes().length).toBe(0)
    expect(existing.ended.closed || fresh.ended.closed).toBe(false)
    expect(p.stats().active).toBe(2)

    p.setFault({ mode: 'none' })
    expect((await existing.read(12)).toString()).toBe('beforeduring')
    expect((await fresh.read(5)).toString()).toBe('hello')
  })

  it('reset: existing connections and new ones get ECONNRESET; none restores service', async () => {
    const p = await proxy()
    const existing = await client(p.port)
    existing.socket.write('ping')
    await existing.read(4)

    p.setFault({ mode: 'reset' })
    expect((await existing.closed()).error).toBe('ECONNRESET')

    const fresh = await client(p.port)
    fresh.socket.write('x')
    const freshEnd = await fresh.closed()
    expect(freshEnd.closed).toBe(true)
    expect(['ECONNRESET', 'EPIPE']).toContain(freshEnd.error)
    expect(p.stats().reset).toBeGreaterThanOrEqual(2)

    p.setFault({ mode: 'none' })
    const after = await client(p.port)
    after.socket.write('back')
    expect((await after.read(4)).toString()).toBe('back')
  })

  it('cut: existing connections end with a FIN, new ones are closed at once; none restores service', async () => {
    const p = await proxy()
    const existing = await client(p.port)
    existing.socket.write('ping')
    await existing.read(4)

    p.setFault({ mode: 'cut' })
    const ended = await existing.closed()
    expect(ended.end).toBe(true)
    expect(ended.error).toBeUndefined()

    const fresh = await client(p.port)
    const freshEnd = await fresh.closed()
    expect(freshEnd.end).toBe(true)
    expect(fresh.bytes().length).toBe(0)
    expect(p.stats().cut).toBeGreaterThanOrEqual(2)

    p.setFault({ mode: 'none' })
    const after = await client(p.port)
    after.socket.write('back')
    expect((await after.read(4)).toString()).toBe('back')
  })

  it('passes a half-close through: the target sees end of stream and still answers', async () => {
    const p = await proxy({ mode: 'latency', latencyMs: 20 })
    const c = await client(p.port)
    c.socket.end('last words')
    expect((await c.read(10)).toString()).toBe('last words')
    expect((await c.closed()).end).toBe(true)
  })

  it('resets the client when the target cannot be reached', async () => {
    const dead = createServer()
    dead.listen(0, '127.0.0.1')
    await once(dead, 'listening')
    const deadPort = (dead.address() as { port: number }).port
    await new Promise((resolve) => dead.close(resolve))
    const p = await createFaultProxy({ targetHost: '127.0.0.1', targetPort: deadPort })
    proxies.push(p)
    const c = await client(p.port)
    const ended = await c.closed()
    expect(ended.closed).toBe(true)
    expect(ended.error).toBe('ECONNRESET')
    expect(p.stats().reset).toBe(1)
  })

  it('validates its options and faults, naming the bad one', async () => {
    await expect(createFaultProxy({ targetHost: '127.0.0.1', targetPort: 0 })).rejects.toMatchObject({
      code: 'GR_ERR_INVALID_OPTION',
      option: 'targetPort',
    })
    await expect(
      // @ts-expect-error unknown key
      createFaultProxy({ targetHost: '127.0.0.1', targetPort: echoPort, latency: 5 }),
    ).rejects.toMatchObject({ option: 'latency' })
    const p = await proxy()
    // @ts-expect-error latency needs latencyMs
    expect(() => p.setFault({ mode: 'latency' })).toThrow(
      expect.objectContaining({ option: 'fault.latencyMs' }),
    )
    // @ts-expect-error no such mode
    expect(() => p.setFault({ mode: 'drop' })).toThrow(expect.objectContaining({ option: 'fault.mode' }))
    expect(p.fault).toEqual({ mode: 'none' })
    await p.close()
    await p.close()
    expect(() => p.setFault({ mode: 'none' })).toThrow(
      expect.objectContaining({ code: 'GR_ERR_CHAOS_PROXY_CLOSED' }),
    )
  })
})
