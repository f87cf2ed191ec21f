// Starts test/fixtures/stand-in-server.mjs as a child process and stops it by its own pid.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const entry = fileURLToPath(new URL('../fixtures/stand-in-server.mjs', import.meta.url))

export interface StandIn {
  url: string
  metricsUrl: string
  stop(): Promise<void>
}

export async function startStandIn(env: Record<string, string>): Promise<StandIn> {
  const child: ChildProcess = spawn(process.execPath, [entry], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout! })
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => line as string),
    once(child, 'exit').then(([code]) => {
      throw new Error(`stand-in exited with ${code} before listening`)
    }),
  ])
  const { port } = JSON.parse(first) as { port: number }
  return {
    url: `http://127.0.0.1:${port}/work`,
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    },
  }
}
