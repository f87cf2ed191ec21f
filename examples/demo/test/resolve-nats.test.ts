import { existsSync } from 'node:fs'
import { connect } from '@nats-io/transport-node'
import { describe, expect, it } from 'vitest'
import { serviceUrl } from '../../../scripts/test-services.js'
import {
  DemoErrorCodes,
  ephemeralPort,
  findNatsServer,
  firstHostPort,
  readNatsInfo,
  resolveNats,
} from '../src/index.js'
import { alive } from './helpers.js'

const natsUrl = await serviceUrl('NATS_URL')
const binary = findNatsServer()

describe.skipIf(!natsUrl)('resolveNats with the local server', () => {
  it('uses NATS_URL as given when it answers', async () => {
    const resolved = await resolveNats({ natsUrl: natsUrl! })
    expect(resolved).toMatchObject({ url: natsUrl, source: 'env', pid: undefined })
    expect(resolved.description).toContain('JetStream on')
  })

  it('uses the local server in auto mode when NATS_URL is unset', async () => {
    const lines: string[] = []
    const resolved = await resolveNats({ natsUrl: '', localUrl: natsUrl!, log: (l) => lines.push(l) })
    expect(resolved).toMatchObject({ url: natsUrl, source: 'local' })
    expect(lines).toEqual([`NATS: local server ${natsUrl}`])
  })
})

describe('resolveNats errors', () => {
  it('fails naming NATS_URL when it does not answer, without falling back', async () => {
    const port = await ephemeralPort()
    await expect(resolveNats({ natsUrl: `nats://127.0.0.1:${port}` })).rejects.toMatchObject({
      code: DemoErrorCodes.NATS_UNAVAILABLE,
      message: expect.stringContaining('NATS_URL=nats://127.0.0.1:'),
    })
  })

  it('says how to get a server when none answers and no nats-server can be found', async () => {
    const port = await ephemeralPort()
    const error = await resolveNats({
      natsUrl: '',
      localUrl: `nats://127.0.0.1:${port}`,
      serverBinary: '/nonexistent/nats-server',
    }).catch((e: Error & { code?: string }) => e)
    expect(error).toMatchObject({ code: DemoErrorCodes.NATS_UNAVAILABLE })
    expect((error as Error).message).toContain('apt-get install nats-server')
    expect((error as Error).message).toContain('NATS_URL')
  })

  it('finds nothing on an empty PATH only when the sbin folders lack it too', () => {
    const found = findNatsServer('')
    expect(
      found === null || ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin'].some((d) => found.startsWith(d)),
    ).toBe(true)
  })

  it('reads the first host and port of a server list', () => {
    expect(firstHostPort('nats://a.example:4333,nats://b:4222')).toEqual(['a.example', 4333])
    expect(firstHostPort('127.0.0.1:5222')).toEqual(['127.0.0.1', 5222])
    expect(firstHostPort('nats://host')).toEqual(['host', 4222])
  })

  it('rejects unknown options naming them', async () => {
    await expect(resolveNats({ url: 'x' } as never)).rejects.toMatchObject({ code: 'GR_ERR_INVALID_OPTION' })
  })
})

describe.skipIf(!binary)('resolveNats with a private nats-server', () => {
  it('starts nats-server from PATH with JetStream on a free port, and stops it and removes its store', async () => {
    const lines: string[] = []
    const resolved = await resolveNats({ mode: 'spawn', log: (l) => lines.push(l) })
    const [host, port] = firstHostPort(resolved.url)
    const storeDir = lines.join('\n').match(/-sd (\S+)/)?.[1]
    try {
      expect(resolved.source).toBe('spawned')
      expect(host).toBe('127.0.0.1')
      expect(port).not.toBe(4222)
      expect(alive(resolved.pid)).toBe(true)
      expect(storeDir && existsSync(storeDir)).toBe(true)
      expect(await readNatsInfo(host, port)).toMatchObject({ jetstream: true })

      // A real client can use JetStream there.
      const nc = await connect({ servers: resolved.url })
      const reply = await nc.request('$JS.API.INFO', '', { timeout: 5000 })
      expect(reply.json<{ type: string }>().type).toBe('io.nats.jetstream.api.v1.account_info_response')
      await nc.close()
    } finally {
      await resolved.close()
      await resolved.close()
    }
    expect(alive(resolved.pid)).toBe(false)
    expect(await readNatsInfo(host, port, 500)).toBeNull()
    expect(storeDir && existsSync(storeDir)).toBe(false)
  })

  it('is what auto mode starts when NATS_URL is unset and nothing answers locally', async () => {
    const closed = await ephemeralPort()
    const resolved = await resolveNats({ natsUrl: '', localUrl: `nats://127.0.0.1:${closed}` })
    try {
      expect(resolved.source).toBe('spawned')
      expect(resolved.url).not.toBe(`nats://127.0.0.1:${closed}`)
    } finally {
      await resolved.close()
    }
  })
})
