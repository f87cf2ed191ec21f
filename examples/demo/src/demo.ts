// `npm run demo`: finds PostgreSQL and NATS, starts the four services on loopback, sends a burst of orders,
// shows what happened, and keeps running until Ctrl-C (or stops at once with `once`).

import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import type { Writable } from 'node:stream'
import { validate } from '@goreliable/core'
import { allocatePorts } from './allocate-ports.js'
import { DemoError, DemoErrorCodes } from './errors.js'
import { type ResolvedNats, type ResolveNatsOptions, resolveNats } from './resolve-nats.js'
import { type ResolvedPostgres, type ResolvePostgresOptions, resolvePostgres } from './resolve-postgres.js'
import { defaultEntries, defaultPorts, type ServiceName, type StackPorts, stackSpecs } from './services.js'
import { burstAndSummary, printStack, printTryIt } from './summary.js'
import { createSupervisor, type ExitEvent, type Supervisor } from './supervisor.js'

/** Options of {@link runDemo}. */
export interface RunDemoOptions {
  /** Stop after the summary instead of running until Ctrl-C (for CI). @default false */
  once?: boolean
  /** Orders in the burst. @default 20 */
  orders?: number
  /** How PostgreSQL is found (`mode: 'pglite'` forces the embedded one). @default {} (auto) */
  postgres?: Omit<ResolvePostgresOptions, 'log'>
  /** How NATS is found (`mode: 'spawn'` forces a private nats-server). @default {} (auto) */
  nats?: Omit<ResolveNatsOptions, 'log'>
  /** Entry files to run instead of examples/<name>/dist/main.js (tests run stand-ins). @default built examples */
  entries?: Partial<Record<ServiceName, string>>
  /** Preferred ports; a taken one is replaced by a free one. @default 8080, 9464, 8081, 9465, 9466, 8082 */
  ports?: Partial<StackPorts>
  /** `LOG_LEVEL` of the services. @default 'warn' */
  logLevel?: string
  /** Time each service has to become ready. @default 60000 */
  readyTimeoutMs?: number
  /** Time the notifications have to arrive at the email provider. @default 30000 */
  deliveryTimeoutMs?: number
  /** Time a service has to exit after SIGTERM. @default 15000 */
  stopTimeoutMs?: number
  /** Stop everything on SIGINT, SIGTERM and SIGHUP (a second one kills at once). @default true */
  handleSignals?: boolean
  /** Where the demo and the services print. @default process.stdout */
  stdout?: Writable
  /** Where the services' errors go. @default process.stderr */
  stderr?: Writable
}

/** Every option key of {@link runDemo}. */
export const runDemoOptionKeys = [
  'once',
  'orders',
  'postgres',
  'nats',
  'entries',
  'ports',
  'logLevel',
  'readyTimeoutMs',
  'deliveryTimeoutMs',
  'stopTimeoutMs',
  'handleSignals',
  'stdout',
  'stderr',
] as const

const stopSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/**
 * Runs the demo and resolves with the process exit code: 0 after Ctrl-C, or with `once` when every order
 * was created and notified; 1 when something failed (the reason is printed).
 */
export async function runDemo(options: RunDemoOptions = {}): Promise<number> {
  checkOptions(options)
  const out = options.stdout ?? process.stdout
  const print = (line = '') => out.write(`${line}\n`)
  let postgres: ResolvedPostgres | undefined
  let nats: ResolvedNats | undefined
  let supervisor: Supervisor | undefined
  let crashed: (event: ExitEvent) => void = () => {}
  const crash = new Promise<ExitEvent>((resolve) => {
    crashed = resolve
  })

  let cleaning: Promise<void> | undefined
  const cleanup = () => {
    cleaning ??= (async () => {
      const results = (await supervisor?.stopAll()) ?? []
      for (const r of results.filter((r) => r.forced)) print(`${r.name} did not stop in time and was killed`)
      await nats?.close()
      await postgres?.close()
    })()
    return cleaning
  }

  // A signal stops everything whatever the demo is doing; runDemo then resolves with `stopped`'s code.
  let stopping = false
  let resolveStopped: (code: number) => void = () => {}
  const stopped = new Promise<number>((resolve) => {
    resolveStopped = resolve
  })
  const starting: Promise<{ close(): Promise<void> }>[] = []
  const track = <T extends { close(): Promise<void> }>(resolving: Promise<T>): Promise<T> => {
    starting.push(resolving)
    return resolving
  }
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      print(`\n${signal} again: killing everything`)
      supervisor?.killAll()
      void Promise.allSettled([nats?.close(), postgres?.close()]).then(() => process.exit(130))
      return
    }
    stopping = true
    print(`\n${signal}: stopping the services (again to kill them at once)`)
    void cleanup()
      // A PGlite or nats-server still starting when the signal came is closed once it is up.
      .then(() => Promise.allSettled(starting.map((p) => p.then((started) => started.close()))))
      .then(() => {
        print('stopped')
        resolveStopped(0)
      })
  }
  if (options.handleSignals ?? true) for (const s of stopSignals) process.on(s, onSignal)
  const removeSignals = () => {
    for (const s of stopSignals) process.removeListener(s, onSignal)
  }

  try {
    // Raced with `stopped`: after a signal the flow may still be waiting (on a delivery, say) for things
    // that will never come, and the launcher must not wait with it.
    return await Promise.race([flow(), stopped])
  } finally {
    removeSignals()
  }

  async function flow(): Promise<number> {
    try {
      print('goreliable demo: the example stack on 127.0.0.1')
      const entries = { ...defaultEntries(), ...options.entries }
      // Before anything slow starts: a missing build is the likeliest failure on a fresh clone.
      const missing = Object.entries(entries).filter(([, path]) => !existsSync(path))
      if (missing.length) {
        throw new DemoError(
          DemoErrorCodes.SERVICE_ENTRY_MISSING,
          `not built yet: ${missing.map(([name, path]) => `${name} (${path})`).join(', ')}; run \`npm run build\` at the repository root first`,
        )
      }
      postgres = await track(resolvePostgres({ ...options.postgres, log: (l) => print(`  ${l}`) }))
      if (stopping) return await stopped
      nats = await track(resolveNats({ ...options.nats, log: (l) => print(`  ${l}`) }))
      if (stopping) return await stopped

      const ports = await allocatePorts({ ...defaultPorts, ...options.ports })
      for (const [name, port] of Object.entries(ports)) {
        const wanted = { ...defaultPorts, ...options.ports }[name as keyof StackPorts]
        if (port !== wanted && wanted !== 0) print(`  port ${wanted} (${name}) is taken; using ${port}`)
      }
      supervisor = createSupervisor({
        stopTimeoutMs: options.stopTimeoutMs ?? 15_000,
        stdout: out,
        stderr: options.stderr ?? process.stderr,
        onUnexpectedExit: (event) => crashed(event),
      })
      const specs = stackSpecs(
        {
          ports,
          databaseUrl: postgres.url,
          natsUrl: nats.url,
          databasePoolMax: postgres.recommendedPoolMax,
          jwtSecret: process.env.JWT_SECRET || randomBytes(32).toString('hex'),
          authClients: 'demo:demo-secret',
          logLevel: options.logLevel ?? 'warn',
        },
        entries,
        options.readyTimeoutMs ?? 60_000,
      )
      for (const spec of specs) {
        if (stopping) return await stopped
        print(`  starting ${spec.name}`)
        await supervisor.start(spec)
      }
      if (stopping) return await stopped

      printStack(print, postgres, nats, ports)
      const ok = await burstAndSummary(
        print,
        ports,
        options.orders ?? 20,
        options.deliveryTimeoutMs ?? 30_000,
      )
      if (stopping) return await stopped
      if (options.once) {
        await cleanup()
        return ok ? 0 : 1
      }
      printTryIt(print, ports)
      print('Running; press Ctrl-C to stop.')

      const first = await Promise.race([
        stopped.then((code) => ({ code })),
        crash.then((event) => ({ event })),
      ])
      if ('code' in first) return first.code
      return await failAfterCrash(first.event)
    } catch (error) {
      if (stopping) return await stopped
      print()
      print(`demo failed: ${(error as Error).message}`)
      await cleanup()
      return 1
    }
  }

  async function failAfterCrash(event: ExitEvent): Promise<number> {
    if (stopping) return stopped
    print()
    print(`${event.name} exited (${event.signal ?? `code ${event.code}`}); stopping the others`)
    for (const line of event.recentOutput.slice(-10)) print(`  ${line}`)
    await cleanup()
    return 1
  }
}

function checkOptions(options: RunDemoOptions): void {
  validate.requireObject('options', options)
  validate.rejectUnknownKeys('', options as Record<string, unknown>, runDemoOptionKeys)
  validate.optionalBoolean('once', options.once, false)
  validate.optionalBoolean('handleSignals', options.handleSignals, true)
  validate.optionalNumber('orders', options.orders, 20, { min: 1, max: 10_000, integer: true })
  for (const name of ['readyTimeoutMs', 'deliveryTimeoutMs', 'stopTimeoutMs'] as const) {
    validate.optionalNumber(name, options[name], 1, { min: 1, integer: true })
  }
  validate.optionalObject('postgres', options.postgres)
  validate.optionalObject('nats', options.nats)
  validate.optionalObject('entries', options.entries)
  validate.optionalObject('ports', options.ports)
}
