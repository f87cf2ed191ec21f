import { EventEmitter } from 'node:events'
import { constants } from 'node:os'
import { ErrorCodes, InvalidOptionError, TimeoutError } from './errors.js'
import type { Health } from './health.js'
import {
  optionalNumber,
  optionalString,
  rejectUnknownKeys,
  requireFunction,
  requireObject,
  requireString,
} from './options.js'

/** setTimeout fires at once for delays above 2^31 - 1 ms. */
const MAX_TIMER_MS = 2_147_483_647

/** The part of a pino logger the coordinator uses; a pino `Logger` fits. */
export interface ShutdownLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface ShutdownOptions {
  /**
   * Signals that start the shutdown; a second one during shutdown forces `exit(1)`. `[]` listens to none
   * (the host calls `shutdown()` itself).
   * @default ['SIGTERM', 'SIGINT']
   */
  signals?: readonly NodeJS.Signals[]
  /**
   * Time between failing readiness and running the first closer, in ms, so that the endpoint removal
   * reaches every load balancer while the process still serves the requests they send meanwhile.
   * @default 0
   */
  drainDelayMs?: number
  /**
   * Time all closers together may take, in ms (the drain delay not included). Closers still pending then
   * are abandoned and the exit code is 1. Keep `drainDelayMs + timeoutMs` below the pod's
   * `terminationGracePeriodSeconds`.
   * @default 10000
   */
  timeoutMs?: number
  /**
   * Health registry to mark as shutting down the moment shutdown starts (readiness fails, liveness stays ok).
   * @default undefined
   */
  health?: Pick<Health, 'markShuttingDown'>
  /**
   * pino-like logger for the start, each closer, failures and the end. Without it the coordinator is silent;
   * its events still fire.
   * @default undefined
   */
  logger?: ShutdownLogger
  /**
   * Called once with the exit code when shutdown ends (0, or 1 after a failed or abandoned closer or a
   * forced exit). Hosts that own the process exit, and tests, pass their own.
   * @default (code) => process.exit(code)
   */
  exit?: (code: number) => void
}

/** Known keys of {@link ShutdownOptions}; the docs test checks that each is documented. */
export const createShutdownOptionKeys = [
  'signals',
  'drainDelayMs',
  'timeoutMs',
  'health',
  'logger',
  'exit',
] as const

export interface ShutdownStartEvent {
  /** The signal's name, or the reason given to `shutdown(reason)`. */
  reason: string
  signal: NodeJS.Signals | undefined
}

export interface CloserEvent {
  name: string
  status: 'ok' | 'fail' | 'timeout'
  durationMs: number
  error?: unknown
}

export interface ShutdownResult {
  reason: string
  /** The code given to `exit`: 0, or 1 when a closer failed or was abandoned. */
  exitCode: 0 | 1
  /** Whole shutdown, drain delay included. */
  durationMs: number
  /** Closers that threw or rejected. */
  failed: string[]
  /** Closers still running, or never started, when `timeoutMs` passed. */
  abandoned: string[]
}

export interface ForcedEvent {
  signal: NodeJS.Signals
}

/** Events of a {@link Shutdown}, in the order they fire. */
export interface ShutdownEvents {
  'shutdown:start': [ShutdownStartEvent]
  'shutdown:closer': [CloserEvent]
  'shutdown:end': [ShutdownResult]
  'shutdown:forced': [ForcedEvent]
}

export interface Shutdown {
  /** Subscribes to an event (an EventEmitter underneath); a listener that throws is logged, never fatal. */
  on<K extends keyof ShutdownEvents>(event: K, listener: (...args: ShutdownEvents[K]) => void): this
  once<K extends keyof ShutdownEvents>(event: K, listener: (...args: ShutdownEvents[K]) => void): this
  off<K extends keyof ShutdownEvents>(event: K, listener: (...args: ShutdownEvents[K]) => void): this
  /**
   * Registers a closer. Closers run in reverse order of registration (last opened, first closed), as a
   * server that uses a pool is created after the pool. Returns a function that removes it.
   */
  addCloser(name: string, fn: () => unknown): () => void
  /** Starts the shutdown (or returns the one already running) and resolves when it has ended. */
  shutdown(reason?: string): Promise<ShutdownResult>
  readonly isShuttingDown: boolean
  /** Removes the signal listeners; a shutdown already running goes on. */
  close(): void
}

interface Closer {
  readonly name: string
  readonly fn: () => unknown
}

/**
 * Creates the shutdown coordinator. On the first signal it fails readiness at once, waits `drainDelayMs`,
 * runs the closers in reverse order under one `timeoutMs`, then calls `exit`. A second signal forces
 * `exit(1)`.
 *
 * @example
 * const shutdown = createShutdown({ health, drainDelayMs: 5000, logger })
 * shutdown.addCloser('pg', () => pool.end())
 * shutdown.addCloser('http', () => app.close())
 * shutdown.on('shutdown:end', ({ exitCode }) => logger.info({ exitCode }, 'bye'))
 */
export function createShutdown(options: ShutdownOptions = {}): Shutdown {
  const opts = requireObject('options', options)
  rejectUnknownKeys('', opts, createShutdownOptionKeys)
  const signals = validateSignals(opts.signals)
  const drainDelayMs = optionalNumber('drainDelayMs', opts.drainDelayMs, 0, { max: MAX_TIMER_MS })
  const timeoutMs = optionalNumber('timeoutMs', opts.timeoutMs, 10_000, { min: 1, max: MAX_TIMER_MS })
  const health = validateHealth(opts.health)
  const logger = validateLogger(opts.logger)
  const exit =
    opts.exit === undefined
      ? (code: number) => process.exit(code)
      : requireFunction<(code: number) => void>('exit', opts.exit)

  // Untyped inside; the Shutdown interface types what users see.
  const emitter = new EventEmitter()
  const closers: Closer[] = []
  let running: Promise<ShutdownResult> | undefined
  let closersStarted = false
  let signalsReceived = 0
  let exited = false

  const exitOnce = (code: 0 | 1) => {
    if (exited) return
    exited = true
    exit(code)
  }

  // A throwing listener must not stop the closers from running.
  const emit = <K extends keyof ShutdownEvents>(event: K, ...args: ShutdownEvents[K]) => {
    try {
      emitter.emit(event, ...args)
    } catch (err) {
      logger?.error({ err, event }, 'shutdown event listener threw')
    }
  }

  const run = async (reason: string, signal: NodeJS.Signals | undefined): Promise<ShutdownResult> => {
    const started = performance.now()
    // Before the first await: readiness must fail in the same tick the signal arrives.
    health?.markShuttingDown()
    logger?.info({ reason, drainDelayMs, timeoutMs }, 'shutdown started')
    emit('shutdown:start', { reason, signal })
    // These timers are not unref'd on purpose: the process must live until the closers ran and exit was
    // called, even if nothing else holds the event loop open.
    if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs))

    closersStarted = true
    const queue = closers.slice().reverse()
    const failed: string[] = []
    let abandoned: string[] = []
    let deadlineTimer: NodeJS.Timeout | undefined
    const deadline = new Promise<'timeout'>((resolve) => {
      deadlineTimer = setTimeout(resolve, timeoutMs, 'timeout')
    })
    for (let i = 0; i < queue.length; i++) {
      const closer = queue[i]!
      const closerStarted = performance.now()
      const outcome = await Promise.race([
        Promise.resolve()
          .then(closer.fn)
          .then(
            () => ({ ok: true as const }),
            (error: unknown) => ({ ok: false as const, error }),
          ),
        deadline,
      ])
      const durationMs = elapsed(closerStarted)
      if (outcome === 'timeout') {
        const error = new TimeoutError(ErrorCodes.SHUTDOWN_TIMEOUT, 'Shutdown closers', timeoutMs)
        abandoned = queue.slice(i).map((c) => c.name)
        logger?.error(
          { err: error, closer: closer.name, abandoned },
          'shutdown timed out; abandoning closers',
        )
        emit('shutdown:closer', { name: closer.name, status: 'timeout', durationMs, error })
        break
      }
      if (outcome.ok) {
        logger?.info({ closer: closer.name, durationMs }, 'closer done')
        emit('shutdown:closer', { name: closer.name, status: 'ok', durationMs })
      } else {
        failed.push(closer.name)
        logger?.error({ err: outcome.error, closer: closer.name, durationMs }, 'closer failed')
        emit('shutdown:closer', { name: closer.name, status: 'fail', durationMs, error: outcome.error })
      }
    }
    clearTimeout(deadlineTimer)

    const exitCode = failed.length > 0 || abandoned.length > 0 ? 1 : 0
    const result: ShutdownResult = { reason, exitCode, durationMs: elapsed(started), failed, abandoned }
    logger?.info({ ...result }, 'shutdown finished')
    emit('shutdown:end', result)
    exitOnce(exitCode)
    return result
  }

  // `running` is set before run() starts, so a 'shutdown:start' listener that calls shutdown() or reads
  // isShuttingDown sees the shutdown it is part of, not a chance to start a second one.
  const begin = (reason: string, signal: NodeJS.Signals | undefined): Promise<ShutdownResult> => {
    if (running !== undefined) return running
    let adopt!: (result: Promise<ShutdownResult>) => void
    running = new Promise<ShutdownResult>((resolve) => {
      adopt = resolve
    })
    adopt(run(reason, signal))
    return running
  }

  const onSignal = (signal: NodeJS.Signals) => {
    signalsReceived++
    if (running === undefined) {
      begin(signal, signal)
      return
    }
    // Only a second signal forces: a shutdown started by the program itself lets the first one through,
    // so an orchestrator's ordinary SIGTERM does not cut its closers short.
    if (signalsReceived < 2) {
      logger?.info({ signal }, 'shutdown already running')
      return
    }
    logger?.warn({ signal }, 'second signal during shutdown; forcing exit')
    emit('shutdown:forced', { signal })
    exitOnce(1)
  }

  for (const signal of signals) process.on(signal, onSignal)

  const coordinator: Shutdown = {
    on(event, listener) {
      emitter.on(event, listener)
      return this
    },
    once(event, listener) {
      emitter.once(event, listener)
      return this
    },
    off(event, listener) {
      emitter.off(event, listener)
      return this
    },
    get isShuttingDown() {
      return running !== undefined
    },
    addCloser(name, fn) {
      const closer: Closer = {
        name: requireString('name', name),
        fn: requireFunction<() => unknown>('fn', fn),
      }
      if (closers.some((c) => c.name === name)) {
        throw new InvalidOptionError('name', 'a closer name not already registered', name)
      }
      if (closersStarted)
        logger?.warn({ closer: name }, 'closer added after closers started; it will not run')
      closers.push(closer)
      return () => {
        const i = closers.indexOf(closer)
        if (i !== -1) closers.splice(i, 1)
      }
    },
    shutdown(reason) {
      return running ?? begin(optionalString('reason', reason, 'shutdown()'), undefined)
    },
    close() {
      for (const signal of signals) process.off(signal, onSignal)
    },
  }
  return coordinator
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000
}

/** Node cannot listen to SIGKILL or SIGSTOP; `process.on` would throw later, far from the option. */
const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP'])

function validateSignals(value: unknown): NodeJS.Signals[] {
  if (value === undefined) return ['SIGTERM', 'SIGINT']
  if (!Array.isArray(value)) throw new InvalidOptionError('signals', 'an array of signal names', value)
  for (const s of value) {
    if (typeof s !== 'string' || !Object.hasOwn(constants.signals, s) || UNCATCHABLE.has(s)) {
      throw new InvalidOptionError('signals', 'signal names Node can listen to, like "SIGTERM"', s)
    }
  }
  return [...new Set(value as NodeJS.Signals[])]
}

function validateHealth(value: unknown): Pick<Health, 'markShuttingDown'> | undefined {
  if (value === undefined) return undefined
  const h = value as Partial<Health> | null
  if (typeof h !== 'object' || h === null || typeof h.markShuttingDown !== 'function') {
    throw new InvalidOptionError('health', 'a Health from createHealth()', value)
  }
  return h as Pick<Health, 'markShuttingDown'>
}

function validateLogger(value: unknown): ShutdownLogger | undefined {
  if (value === undefined) return undefined
  const l = value as Partial<ShutdownLogger> | null
  if (
    typeof l !== 'object' ||
    l === null ||
    typeof l.info !== 'function' ||
    typeof l.warn !== 'function' ||
    typeof l.error !== 'function'
  ) {
    throw new InvalidOptionError('logger', 'a pino-like logger with info, warn and error', value)
  }
  return l as ShutdownLogger
}
