// What only a real socket shows: the 'reset' outage drops the TCP connection, and the entry point listens
// on PORT/HOST and exits 0 on SIGTERM.

import { spawn } from 'node:child_process'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { createEmailProvider } from '../src/index.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

interface Answer {
  status?: number
  body?: string
  error?: NodeJS.ErrnoException
}

function call(port: number, method: string, path: string, body?: unknown, key?: string): Promise<Answer> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(key ? { 'idempotency-key': key } : {}),
        },
        timeout: 10_000,
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      },
    )
    req.on('error', (error) => resolve({ error }))
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.end(payload)
  })
}

const message = { to: 'customer@example.com', subject: 'Order confirmed', body: 'ord_7' }

describe('reset outage over a real socket', () => {
  it('drops the connection with ECONNRESET, then delivers once the outage ends', async () => {
    app = createEmailProvider({ faults: { outage: 'reset' } })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as { port: number }).port

    const dropped = await call(port, 'POST', '/v1/messages', message, 'ord_7')
    expect(dropped.status).toBeUndefined()
    expect(dropped.error?.code).toBe('ECONNRESET')

    const healed = await call(port, 'DELETE', '/control')
    expect(healed.status).toBe(200)
    const delivered = await call(port, 'POST', '/v1/messages', message, 'ord_7')
    expect(delivered.status).toBe(201)

    const listed = JSON.parse((await call(port, 'GET', '/v1/messages')).body ?? '{}')
    expect(listed.count).toBe(1)
    expect(listed.messages[0].deliveryAttempts).toBe(2)
    expect(listed.stats.outageRejections).toBe(1)
  })
})

describe('main entry', () => {
  it('listens on PORT and HOST and exits 0 on SIGTERM', async () => {
    const port = await freePort()
    const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url))
    const child = spawn(process.execPath, [entry], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      let answer: Answer = {}
      for (let i = 0; i < 100 && answer.status !== 200; i++) {
        answer = await call(port, 'GET', '/control')
        if (answer.status !== 200) await new Promise((r) => setTimeout(r, 100))
      }
      expect(answer.status).toBe(200)
      expect((await call(port, 'POST', '/v1/messages', message, 'k')).status).toBe(201)
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    } finally {
      child.kill('SIGKILL')
    }
  })
})

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
