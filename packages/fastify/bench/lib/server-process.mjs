// Starts one bench server (bench/servers/hello.mjs <variant>) as its own process and talks to it over IPC.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { placement, prefixFor } from './placement.mjs'

const HELLO = fileURLToPath(new URL('../servers/hello.mjs', import.meta.url))

/**
 * @param {string} variant a key of bench/lib/variants.mjs
 * @returns {Promise<{ variant: string, standIn: boolean, url: string, cpuMicros: () => Promise<number>, counted: () => Promise<number | null>, startProfile: () => Promise<void>, stopProfile: () => Promise<object>, close: () => Promise<void> }>}
 */
export async function startServer(variant) {
  // GORELIABLE_BENCH_NODE_FLAGS: extra node flags for the servers (diagnostics, e.g. GC settings)
  const flags = (process.env.GORELIABLE_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)
  const argv = [process.execPath, ...flags, HELLO, variant]
  const [command, ...args] = [...prefixFor(placement.serverCpu), ...argv]
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))

  const { port, standIn } = await new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m?.type === 'listening') {
        child.off('message', onMessage)
        resolve(m)
      }
    }
    child.on('message', onMessage)
    exited.then(({ code, signal }) =>
      reject(new Error(`server ${variant} exited (${code ?? signal}) before listening`)),
    )
  })

  /** Sends a command and resolves with the answer of the same type. */
  const ask = (type) =>
    new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m?.type === type) {
          child.off('message', onMessage)
          resolve(m)
        }
      }
      child.on('message', onMessage)
      child.send(type, (err) => err && reject(err))
    })
  /** This server process's CPU time (user + system) so far, in microseconds. */
  const cpuMicros = async () => (await ask('sample')).cpuMicros
  /** Requests to `/` the server's own metrics counted, or null when it has none. */
  const counted = async () => (await ask('counted')).n
  /** Starts a V8 CPU profile in the server (diagnostics). */
  const startProfile = async () => {
    await ask('profile-start')
  }
  /** Stops it and resolves with the profile (a .cpuprofile object). */
  const stopProfile = async () => (await ask('profile-stop')).profile

  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.send('close')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
  }

  return {
    variant,
    standIn,
    url: `http://127.0.0.1:${port}/`,
    cpuMicros,
    counted,
    startProfile,
    stopProfile,
    close,
  }
}
