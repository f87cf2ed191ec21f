// The entry point as a real process: it listens where the environment says and exits 0 on SIGTERM; a bad
// variable stops it at once with exit code 1 and the variable's name.

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { closedUrl } from './stub-upstream.js'

const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url))

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
  return { child, output: () => output, exited: new Promise((resolve) => child.on('exit', resolve)) }
}

describe.skipIf(!existsSync(entry))('node dist/main.js', () => {
  it('issues tokens on PORT, is ready on ADMIN_PORT, and exits 0 on SIGTERM', async () => {
    const [port, adminPort] = [await closedUrl(), await closedUrl()].map((u) => new URL(u).port)
    const proc = run({
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
      ORDER_SERVICE_URLS: await closedUrl(),
      AUTH_CLIENTS: 'demo:demo-secret',
      JWT_SECRET: 'y'.repeat(32),
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
      const res = await fetch(`http://127.0.0.1:${port}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'demo', client_secret: 'demo-secret' }),
      })
      expect(res.status).toBe(200)
      proc.child.kill('SIGTERM')
      expect(await proc.exited).toBe(0)
    } finally {
      proc.child.kill('SIGKILL')
    }
  })

  it('exits 1 naming the variable when the environment is bad', async () => {
    const proc = run({
      ORDER_SERVICE_URLS: 'http://127.0.0.1:1',
      AUTH_CLIENTS: 'demo:x',
      JWT_SECRET: 'short',
    })
    expect(await proc.exited).toBe(1)
    expect(proc.output()).toContain('gateway: JWT_SECRET: required, at least 32 bytes')
  })
})
