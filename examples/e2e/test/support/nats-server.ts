// A nats-server of the tests' own, with JetStream, on a free loopback port. The tests stop and restart it
// (same port, same store) to take NATS away from the stack and give it back; the shared server on 4222 is
// never touched, and the stack's stream keeps its production name (ORDERS) without clashing with anyone.

import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { connect } from '@nats-io/transport-node'
import { freePort } from './net.js'

/** The nats-server binary: NATS_SERVER_BIN, else the first on PATH, else Debian's /usr/sbin. */
export function findNatsServer(): string | undefined {
  const candidates = [
    process.env.NATS_SERVER_BIN,
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'nats-server')),
    '/usr/sbin/nats-server',
  ]
  for (const candidate of candidates) {
    if (!candidate) continue
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not this one
    }
  }
  return undefined
}

export interface PrivateNats {
  url: string
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); its store stays. */
  stop(): Promise<void>
  /** Starts it again on the same port with the same store. */
  start(): Promise<void>
  /** Stops it and removes its store. */
  dispose(): Promise<void>
}

export async function startPrivateNats(binary: string): Promise<PrivateNats> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'gr-e2e-nats-'))
  const url = `nats://127.0.0.1:${port}`
  let child: ChildProcess | undefined

  async function start(): Promise<void> {
    child = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'ignore' })
    const deadline = Date.now() + 10_000
    for (;;) {
      try {
        const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false, timeout: 500 })
        await nc.close()
        return
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`nats-server did not start on ${url}: ${(err as Error).message}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  }

  async function stop(): Promise<void> {
    const c = child
    child = undefined
    if (c === undefined || c.exitCode !== null) return
    const exited = new Promise((resolve) => c.once('exit', resolve))
    c.kill('SIGTERM')
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }

  await start()
  return {
    url,
    stop,
    start,
    async dispose() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
