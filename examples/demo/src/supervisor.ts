// Runs services as child processes: starts each one and waits until it is ready, prefixes its output with
// its name, and stops them all in reverse order with SIGTERM, then SIGKILL after a timeout.

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { validate } from '@goreliable/core'
import { DemoError, DemoErrorCodes } from './errors.js'

/** One service to run: `node <entry>` with its environment and readiness URL. */
export interface ServiceSpec {
  /** Name used in the output prefix and in errors. */
  name: string
  /** Path of the JavaScript file to run with the current Node.js. */
  entry: string
  /** Extra arguments after the entry. @default [] */
  args?: string[]
  /** Variables set over the launcher's own environment. @default {} */
  env?: Record<string, string>
  /** Polled with GET until it answers 200; without it the service counts as ready once spawned. */
  readyUrl?: string
  /** Time allowed to become ready. @default 30000 */
  readyTimeoutMs?: number
}

/** Options of {@link createSupervisor}. */
export interface SupervisorOptions {
  /** Time a service has to exit after SIGTERM before it gets SIGKILL. @default 15000 */
  stopTimeoutMs?: number
  /** Where the services' standard output goes, one prefixed line at a time. @default process.stdout */
  stdout?: Writable
  /** Where the services' standard error goes, one prefixed line at a time. @default process.stderr */
  stderr?: Writable
  /** Colour the prefixes. @default true when stdout is a TTY */
  color?: boolean
  /** Width the name in the prefix is padded to. @default 19 (the length of `notification-worker`) */
  prefixWidth?: number
  /** Called when a service exits on its own after it was ready (a crash), not when stopped here. */
  onUnexpectedExit?: (event: ExitEvent) => void
}

/** Every option key of {@link createSupervisor}. */
export const createSupervisorOptionKeys = [
  'stopTimeoutMs',
  'stdout',
  'stderr',
  'color',
  'prefixWidth',
  'onUnexpectedExit',
] as const

/** How a service ended. */
export interface ExitEvent {
  name: string
  code: number | null
  signal: NodeJS.Signals | null
  /** Its last lines of output, for the error report. */
  recentOutput: string[]
}

/** How a stop went. */
export interface StopResult extends ExitEvent {
  /** True when SIGTERM was not enough and SIGKILL ended it. */
  forced: boolean
}

/** A running service. */
export interface ServiceHandle {
  readonly name: string
  readonly pid: number | undefined
  /** Settles when the process has exited, however it ended. */
  readonly exited: Promise<ExitEvent>
  /** True until the process has exited. */
  readonly running: boolean
  /** The last lines it printed (stdout and stderr), oldest first. */
  recentOutput(): string[]
}

/** Starts and stops services. */
export interface Supervisor {
  /** Starts the service and resolves when it is ready; rejects (leaving it to `stopAll`) when it is not. */
  start(spec: ServiceSpec): Promise<ServiceHandle>
  /** Stops every service, the last started first; resolves when all have exited. Safe to call twice. */
  stopAll(): Promise<StopResult[]>
  /** Sends SIGKILL to every service still running, at once; for a second Ctrl-C. */
  killAll(): void
  /** The services started so far, in start order. */
  services(): ServiceHandle[]
}

const colors = [36, 35, 33, 32, 34, 31]
const recentLines = 40

/**
 * Creates a supervisor. Each service runs in its own process group, so a Ctrl-C in the terminal reaches
 * only the launcher, which then stops the services in order (the gateway before what it calls). Services
 * still running when the launcher exits without `stopAll` get SIGKILL.
 */
export function createSupervisor(options: SupervisorOptions = {}): Supervisor {
  validate.requireObject('options', options)
  validate.rejectUnknownKeys('', options as Record<string, unknown>, createSupervisorOptionKeys)
  const stopTimeoutMs = validate.optionalNumber('stopTimeoutMs', options.stopTimeoutMs, 15_000, {
    min: 1,
    integer: true,
  })
  const stdout = options.stdout ?? process.stdout
  const stderr = options.stderr ?? process.stderr
  const color = validate.optionalBoolean(
    'color',
    options.color,
    Boolean((stdout as { isTTY?: boolean }).isTTY),
  )
  const prefixWidth = validate.optionalNumber('prefixWidth', options.prefixWidth, 19, {
    min: 0,
    integer: true,
  })
  const onUnexpectedExit = validate.optionalFunction<(event: ExitEvent) => void>(
    'onUnexpectedExit',
    options.onUnexpectedExit,
  )

  interface Entry extends ServiceHandle {
    child: ChildProcess
    stopping: boolean
  }
  const entries: Entry[] = []
  let stopAllPromise: Promise<StopResult[]> | undefined

  const killEverything = () => {
    for (const entry of entries) if (entry.running) signalGroup(entry.child, 'SIGKILL')
  }
  process.on('exit', killEverything)

  const prefixFor = (name: string, index: number) => {
    const label = `${name.padEnd(prefixWidth)} |`
    return color ? `\u001b[${colors[index % colors.length]}m${label}\u001b[0m ` : `${label} `
  }

  async function start(spec: ServiceSpec): Promise<ServiceHandle> {
    // A service started after stopAll would never be stopped.
    if (stopAllPromise) throw new Error(`cannot start ${spec.name}: the supervisor is stopping`)
    const name = validate.requireString('name', spec.name)
    const entryPath = validate.requireString('entry', spec.entry)
    const readyTimeoutMs = validate.optionalNumber('readyTimeoutMs', spec.readyTimeoutMs, 30_000, {
      min: 1,
      integer: true,
    })
    if (!existsSync(entryPath)) {
      throw new DemoError(
        DemoErrorCodes.SERVICE_ENTRY_MISSING,
        `${name}: ${entryPath} does not exist; build the examples first (\`npm run build\` at the repository root)`,
      )
    }
    const child = spawn(process.execPath, [entryPath, ...(spec.args ?? [])], {
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    const recent: string[] = []
    const prefix = prefixFor(name, entries.length)
    const pipe = (stream: NodeJS.ReadableStream | null, target: Writable) => {
      if (!stream) return
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
        recent.push(line)
        if (recent.length > recentLines) recent.shift()
        target.write(`${prefix}${line}\n`)
      })
    }
    pipe(child.stdout, stdout)
    pipe(child.stderr, stderr)

    let ready = false
    const entry: Entry = {
      name,
      pid: child.pid,
      child,
      stopping: false,
      get running() {
        return child.exitCode === null && child.signalCode === null && child.pid !== undefined
      },
      recentOutput: () => [...recent],
      exited: new Promise<ExitEvent>((resolve) => {
        const finish = (code: number | null, signal: NodeJS.Signals | null) => {
          const event = { name, code, signal, recentOutput: [...recent] }
          if (ready && !entry.stopping) onUnexpectedExit?.(event)
          resolve(event)
        }
        // 'close' rather than 'exit': it comes after the output pipes drained, so a crash's last lines are in.
        child.once('close', finish)
        // A spawn failure (no such executable) emits 'error' and no 'close'.
        child.once('error', () => finish(null, null))
      }),
    }
    entries.push(entry)

    if (spec.readyUrl) await waitReady(entry, spec.readyUrl, readyTimeoutMs)
    ready = true
    return entry
  }

  async function stopOne(entry: Entry): Promise<StopResult> {
    entry.stopping = true
    if (!entry.running) return { ...(await entry.exited), forced: false }
    signalGroup(entry.child, 'SIGTERM')
    const timer = sleep(stopTimeoutMs, 'timeout' as const)
    const first = await Promise.race([entry.exited, timer])
    if (first !== 'timeout') return { ...first, forced: false }
    signalGroup(entry.child, 'SIGKILL')
    return { ...(await entry.exited), forced: true }
  }

  return {
    start,
    stopAll() {
      stopAllPromise ??= (async () => {
        const results: StopResult[] = []
        // Reverse start order: what calls others (the gateway) stops before what it calls.
        for (const entry of [...entries].reverse()) results.push(await stopOne(entry))
        process.removeListener('exit', killEverything)
        return results
      })()
      return stopAllPromise
    },
    killAll() {
      for (const entry of entries) entry.stopping = true
      killEverything()
    },
    services: () => [...entries],
  }
}

async function waitReady(entry: ServiceHandle, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer yet'
  let exited: ExitEvent | undefined
  void entry.exited.then((event) => {
    exited = event
  })
  while (Date.now() < deadline) {
    if (exited || !entry.running) {
      const event = exited ?? (await entry.exited)
      throw new DemoError(
        DemoErrorCodes.SERVICE_EXITED,
        `${entry.name} exited (${event.signal ?? `code ${event.code}`}) before it was ready${tail(event.recentOutput)}`,
      )
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
      await res.arrayBuffer().catch(() => {})
      if (res.status === 200) return
      last = `answered ${res.status}`
    } catch (error) {
      last = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message
    }
    await sleep(150)
  }
  throw new DemoError(
    DemoErrorCodes.SERVICE_NOT_READY,
    `${entry.name} was not ready within ${timeoutMs} ms: GET ${url} ${last}${tail(entry.recentOutput())}`,
  )
}

function tail(lines: string[]): string {
  const last = lines.slice(-15)
  return last.length ? `; its last output:\n  ${last.join('\n  ')}` : '; it printed nothing'
}

// The whole group, in case a service started children of its own.
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
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
