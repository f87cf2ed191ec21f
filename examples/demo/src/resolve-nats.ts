// Finds a NATS server with JetStream for the demo and the chaos suite: NATS_URL, else the local server, else
// a private nats-server found on PATH, started on a free port with a temporary store.

import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { validate } from '@goreliable/core'
import { DemoError, DemoErrorCodes } from './errors.js'
import { ephemeralPort, type NatsInfo, readNatsInfo } from './net-probe.js'

/** Where {@link resolveNats} looks: `auto` tries `env`, `local`, `spawn` in turn; the others force one. */
export type NatsMode = 'auto' | 'env' | 'local' | 'spawn'

/** Options of {@link resolveNats}. */
export interface ResolveNatsOptions {
  /** Which source to use; `auto` takes the first that works. @default 'auto' */
  mode?: NatsMode
  /** The user's server(s), comma-separated; used as-is once the first one answers; `''` ignores the environment. @default process.env.NATS_URL */
  natsUrl?: string
  /** The local server, used when it answers with JetStream on. @default 'nats://127.0.0.1:4222' */
  localUrl?: string
  /** The nats-server binary to start; found on PATH (and in /usr/sbin, /usr/local/bin) when not given. @default found on PATH */
  serverBinary?: string
  /** Time allowed to the started server to answer. @default 10000 */
  startTimeoutMs?: number
  /** Time allowed to stop the started server with SIGTERM before SIGKILL. @default 5000 */
  stopTimeoutMs?: number
  /** Receives one line per decision, for the launcher to print. @default no output */
  log?: (line: string) => void
}

/** Every option key of {@link resolveNats}. */
export const resolveNatsOptionKeys = [
  'mode',
  'natsUrl',
  'localUrl',
  'serverBinary',
  'startTimeoutMs',
  'stopTimeoutMs',
  'log',
] as const

/** A NATS server the services can use. */
export interface ResolvedNats {
  /** Server URL(s) to give the services as `NATS_URL`. */
  url: string
  /** Which source it came from. */
  source: 'env' | 'local' | 'spawned'
  /** One line for people: what it is and where. */
  description: string
  /** Process id of the server started here; undefined for external servers. */
  pid: number | undefined
  /** Stops the server started here and removes its store; a no-op for external ones. Safe to call twice. */
  close(): Promise<void>
}

const defaultLocalUrl = 'nats://127.0.0.1:4222'
// Debian puts nats-server in /usr/sbin, which is not on an ordinary user's PATH.
const extraDirs = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin']

/** How to get a NATS server: the text of `GR_ERR_DEMO_NATS_UNAVAILABLE`. */
export const howToGetNats =
  'Install nats-server (Debian/Ubuntu: `apt-get install nats-server`; macOS: `brew install nats-server`; ' +
  'or a release from https://github.com/nats-io/nats-server/releases) so the demo can start a private one, ' +
  'or set NATS_URL to a server started with JetStream (`nats-server -js`).'

/**
 * Resolves a NATS server with JetStream. `NATS_URL` when set (it must answer, or this throws
 * `GR_ERR_DEMO_NATS_UNAVAILABLE`); else the local server when it answers with JetStream; else a private
 * `nats-server -js` on 127.0.0.1 and a free port, with a temporary store removed by `close()`; else it throws
 * `GR_ERR_DEMO_NATS_UNAVAILABLE` with a message that says how to get one.
 */
export async function resolveNats(options: ResolveNatsOptions = {}): Promise<ResolvedNats> {
  const o = resolveOptions(options)
  if (o.mode === 'env' || (o.mode === 'auto' && o.natsUrl)) {
    if (!o.natsUrl)
      throw new DemoError(DemoErrorCodes.NATS_UNAVAILABLE, `mode "env" needs NATS_URL to be set`)
    const [host, port] = firstHostPort(o.natsUrl)
    const info = await readNatsInfo(host, port)
    if (!info) {
      throw new DemoError(
        DemoErrorCodes.NATS_UNAVAILABLE,
        `NATS_URL=${o.natsUrl} does not answer as a NATS server; fix it or unset NATS_URL`,
      )
    }
    if (!info.jetstream) o.log(`NATS: warning: ${o.natsUrl} has JetStream off; the services need it`)
    o.log(`NATS: NATS_URL (${o.natsUrl})`)
    return external(o.natsUrl, 'env', `NATS_URL ${o.natsUrl}${describe(info)}`)
  }
  if (o.mode === 'local' || o.mode === 'auto') {
    const [host, port] = firstHostPort(o.localUrl)
    const info = await readNatsInfo(host, port)
    if (info?.jetstream) {
      o.log(`NATS: local server ${o.localUrl}`)
      return external(o.localUrl, 'local', `local NATS at ${o.localUrl}${describe(info)}`)
    }
    const why = info ? `${o.localUrl} has JetStream off` : `nothing answers at ${o.localUrl}`
    if (o.mode === 'local') throw new DemoError(DemoErrorCodes.NATS_UNAVAILABLE, `${why}. ${howToGetNats}`)
    o.log(`NATS: ${why}`)
  }
  return spawnServer(o)
}

type Resolved = ReturnType<typeof resolveOptions>

function resolveOptions(options: ResolveNatsOptions) {
  validate.requireObject('options', options)
  validate.rejectUnknownKeys('', options as Record<string, unknown>, resolveNatsOptionKeys)
  return {
    mode: validate.requireOneOf('mode', options.mode ?? 'auto', ['auto', 'env', 'local', 'spawn'] as const),
    // '' counts as unset, as an empty variable does: a caller passes it to ignore the environment.
    natsUrl: validate.optionalString('natsUrl', (options.natsUrl ?? process.env.NATS_URL) || undefined),
    localUrl: validate.optionalString('localUrl', options.localUrl, defaultLocalUrl),
    serverBinary: validate.optionalString('serverBinary', options.serverBinary),
    startTimeoutMs: validate.optionalNumber('startTimeoutMs', options.startTimeoutMs, 10_000, {
      min: 1,
      integer: true,
    }),
    stopTimeoutMs: validate.optionalNumber('stopTimeoutMs', options.stopTimeoutMs, 5000, {
      min: 1,
      integer: true,
    }),
    log: validate.optionalFunction<(line: string) => void>('log', options.log) ?? (() => {}),
  }
}

/** The path of the nats-server binary on PATH (or in the sbin folders), or null. */
export function findNatsServer(pathVariable = process.env.PATH ?? ''): string | null {
  const dirs = [...pathVariable.split(delimiter).filter(Boolean), ...extraDirs]
  for (const dir of dirs) {
    const candidate = join(dir, 'nats-server')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return null
}

async function spawnServer(o: Resolved): Promise<ResolvedNats> {
  const binary = o.serverBinary ?? findNatsServer()
  if (!binary) {
    throw new DemoError(
      DemoErrorCodes.NATS_UNAVAILABLE,
      `No NATS server: NATS_URL is not set, nothing with JetStream answers at ${o.localUrl}, and no nats-server is on PATH. ${howToGetNats}`,
    )
  }
  const port = await ephemeralPort()
  const storeDir = mkdtempSync(join(tmpdir(), 'goreliable-nats-'))
  const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir]
  o.log(`NATS: starting ${binary} ${args.join(' ')}`)
  // Its own process group: Ctrl-C in the terminal reaches the launcher only, which stops the services
  // first and NATS after them, so the services can drain while NATS is still there.
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true })
  const stderrTail: string[] = []
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    stderrTail.push(...chunk.split('\n').filter(Boolean))
    stderrTail.splice(0, Math.max(0, stderrTail.length - 20))
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let spawnError: Error | undefined
  child.once('error', (error) => {
    spawnError = error
  })
  const killOnExit = () => killGroup(child, 'SIGKILL')
  process.once('exit', killOnExit)

  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      process.removeListener('exit', killOnExit)
      if (child.exitCode === null && child.signalCode === null && !spawnError) {
        killGroup(child, 'SIGTERM')
        const stopped = await Promise.race([
          exited.then(() => true),
          sleep(o.stopTimeoutMs).then(() => false),
        ])
        if (!stopped) {
          killGroup(child, 'SIGKILL')
          await exited
        }
      }
      rmSync(storeDir, { recursive: true, force: true })
    })()
    return closing
  }

  const deadline = Date.now() + o.startTimeoutMs
  let info: NatsInfo | null = null
  while (!info) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await close()
      const reason = spawnError
        ? spawnError.message
        : child.exitCode !== null || child.signalCode !== null
          ? `it exited (${child.exitCode ?? child.signalCode})`
          : `it did not answer within ${o.startTimeoutMs} ms`
      throw new DemoError(
        DemoErrorCodes.NATS_UNAVAILABLE,
        `${binary} failed to start: ${reason}.${stderrTail.length ? `\n${stderrTail.join('\n')}` : ''}\n${howToGetNats}`,
      )
    }
    info = await readNatsInfo('127.0.0.1', port, 500)
    if (!info) await sleep(100)
  }
  child.stderr?.removeAllListeners('data')
  child.stderr?.resume()
  const url = `nats://127.0.0.1:${port}`
  o.log(`NATS: private nats-server at ${url} (store ${storeDir})`)
  return {
    url,
    source: 'spawned',
    description: `private nats-server at ${url}${describe(info)} (store removed when the demo stops)`,
    pid: child.pid,
    close,
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    try {
      child.kill(signal)
    } catch {
      // already gone
    }
  }
}

function external(url: string, source: 'env' | 'local', description: string): ResolvedNats {
  return { url, source, description, pid: undefined, close: async () => {} }
}

function describe(info: NatsInfo): string {
  return ` (nats-server ${info.version ?? '?'}, JetStream ${info.jetstream ? 'on' : 'off'})`
}

/** Host and port of the first server in a NATS URL list such as `nats://a:4222,nats://b:4222` or `a:4222`. */
export function firstHostPort(urls: string): [string, number] {
  const first = urls.split(',')[0]?.trim() ?? ''
  const withScheme = /^[a-z]+:\/\//i.test(first) ? first : `nats://${first}`
  try {
    const parsed = new URL(withScheme)
    return [parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', Number(parsed.port) || 4222]
  } catch {
    return ['127.0.0.1', 4222]
  }
}
