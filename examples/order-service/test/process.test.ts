// The entry point as a real process: it listens where the environment says, and exits 0 on SIGTERM after
// closing everything; a bad variable stops it at once with exit code 1 and the variable's name.
// NATS_URL points at a closed port, which also shows the service starting and taking orders without NATS
// (and keeps this test off the shared server's ORDERS stream).

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { databaseUrl, dropSchema, post, testPool, unique } from './helpers.js'

const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url))

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

function run(env: Record<string, string>): {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
} {
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (d) => {
    output += d
  })
  child.stderr?.on('data', (d) => {
    output += d
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => output, exited }
}

describe.skipIf(!databaseUrl || !existsSync(entry))('node dist/main.js', () => {
  const schema = unique('os_process')
  const pool = testPool()
  afterAll(async () => {
    await dropSchema(pool, schema)
    await pool.end()
  })

  it('serves on PORT, is ready on ADMIN_PORT, and exits 0 on SIGTERM', async () => {
    const [port, adminPort, natsPort] = [await freePort(), await freePort(), await freePort()]
    const proc = run({
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
      DATABASE_URL: databaseUrl as string,
      DATABASE_SCHEMA: schema,
      NATS_URL: `nats://127.0.0.1:${natsPort}`,
    })
    try {
      await expect
        .poll(
          () =>
            fetch(`http://127.0.0.1:${adminPort}/readyz`).then(
              (r) => r.status,
              () => 0,
            ),
          {
            timeout: 20_000,
            interval: 100,
          },
        )
        .toBe(200)
      const res = await post(`http://127.0.0.1:${port}/api/v1/orders`, { amount: 250, currency: 'NOK' })
      expect(res.status).toBe(201)
      proc.child.kill('SIGTERM')
      expect(await proc.exited).toBe(0)
    } finally {
      proc.child.kill('SIGKILL')
    }
  })

  it('exits 1 naming the variable when the environment is bad', async () => {
    const proc = run({ NATS_URL: 'nats://127.0.0.1:4222' })
    expect(await proc.exited).toBe(1)
    expect(proc.output()).toContain('order-service: DATABASE_URL: required')
  })
})
