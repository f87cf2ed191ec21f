import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { allocatePorts, canConnect, ephemeralPort, isPortFree } from '../src/index.js'

let blocker: Server | undefined
afterEach(async () => {
  await new Promise((r) => (blocker ? blocker.close(r) : r(undefined)))
  blocker = undefined
})

function occupy(port: number): Promise<void> {
  blocker = createServer()
  return new Promise((resolve) => blocker!.listen(port, '127.0.0.1', () => resolve()))
}

describe('allocatePorts', () => {
  it('keeps the preferred ports that are free', async () => {
    const a = await ephemeralPort()
    const b = await ephemeralPort()
    expect(await allocatePorts({ a, b })).toEqual({ a, b })
  })

  it('replaces a taken port with a free one', async () => {
    const taken = await ephemeralPort()
    await occupy(taken)
    expect(await isPortFree(taken)).toBe(false)
    const { web } = await allocatePorts({ web: taken })
    expect(web).not.toBe(taken)
    expect(await isPortFree(web)).toBe(true)
  })

  it('never gives two names the same port, and treats 0 as any free port', async () => {
    const same = await ephemeralPort()
    const ports = await allocatePorts({ a: same, b: same, c: 0, d: 0 })
    expect(ports.a).toBe(same)
    expect(new Set(Object.values(ports)).size).toBe(4)
    expect(ports.c).toBeGreaterThan(0)
  })
})

describe('canConnect', () => {
  it('tells an open port from a closed one', async () => {
    const port = await ephemeralPort()
    expect(await canConnect('127.0.0.1', port, 500)).toBe(false)
    await occupy(port)
    expect(await canConnect('127.0.0.1', port, 500)).toBe(true)
  })
})
