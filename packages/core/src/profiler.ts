import { createRequire } from 'node:module'
import { ErrorCodes, GoreliableError, InvalidOptionError, ProfilerBusyError } from './errors.js'
import {
  optionalNumber,
  optionalObject,
  optionalString,
  rejectUnknownKeys,
  requireObject,
  requireString,
} from './options.js'
import { acquireOwner, type ContinuousConfig } from './profiler-owner.js'
import { pyroscopeSeriesName } from './pyroscope-push.js'

/** Continuous profiling to a Pyroscope server. */
export interface PyroscopeOptions {
  /** Base URL of the Pyroscope server (`http:` or `https:`); profiles go to `{serverAddress}/ingest`. Required. */
  serverAddress: string
  /** Application name, Pyroscope's `service_name`. Must not contain `{ } , =`. Required. */
  appName: string
  /** Labels on every profile (`env`, `region`, ...). Keys and values must not contain `{ } , =`. @default {} */
  tags?: Record<string, string>
  /** How often the wall profile is cut and pushed, in ms (integer, 1000..3600000). @default 15000 */
  flushIntervalMs?: number
  /** Sent as `Authorization: Bearer <authToken>`. @default undefined (no header) */
  authToken?: string
}

/** What the profiler logs: push failures (once per run of failures) and recovery. pino fits. */
export interface ProfilerLogger {
  warn(obj: Record<string, unknown>, msg: string): void
  info?(obj: Record<string, unknown>, msg: string): void
}

/** Options of {@link createProfiler}. */
export interface ProfilerOptions {
  /** Continuous profiling; without it, `start()` does nothing and only on-demand captures work. @default undefined */
  pyroscope?: PyroscopeOptions
  /**
   * Wall sampling interval in µs (integer, 100..1000000). The sampler is shared by the process: the handle
   * that runs continuous profiling sets it; a capture alone uses its own handle's. @default 10000 (100 Hz)
   */
  samplingIntervalMicros?: number
  /** Where push failures are reported. @default a logger that discards everything */
  logger?: ProfilerLogger
}

/** Counters of the process-wide profiler, shared by every handle. */
export interface ProfilerStats {
  /** Continuous profiling runs (started by any handle in the process). */
  continuous: boolean
  /** A CPU capture is in progress (in any handle). */
  capturing: boolean
  /** Wall-profile pushes that Pyroscope accepted. */
  pushesSucceeded: number
  /** Wall-profile pushes that failed: unreachable server, timeout, or an error status. */
  pushesFailed: number
}

/** A handle on the process-wide profiler. See {@link createProfiler}. */
export interface Profiler {
  /** Starts continuous profiling if `pyroscope` was given; otherwise does nothing. Idempotent. */
  start(): Promise<void>
  /** Samples wall time for `seconds` and resolves with a gzipped pprof. Never stops continuous profiling. */
  captureCpuProfile(seconds: number): Promise<Buffer>
  /** A gzipped pprof of the sampled heap now in use. The first call starts heap sampling. */
  captureHeapProfile(): Promise<Buffer>
  /** Process-wide counters. */
  stats(): ProfilerStats
  /**
   * Ends this handle's capture early (it resolves with what it sampled), stops the continuous profiling this
   * handle holds and pushes its last segment; the last handle to close releases the sampler and heap
   * sampling. Idempotent; afterwards the other methods reject with `GR_ERR_PROFILER_CLOSED`.
   */
  close(): Promise<void>
}

/** Known keys of {@link ProfilerOptions}. */
export const createProfilerOptionKeys = ['pyroscope', 'samplingIntervalMicros', 'logger'] as const
/** Known keys of {@link PyroscopeOptions}, documented as `pyroscope.<key>`. */
export const createProfilerPyroscopeOptionKeys = [
  'serverAddress',
  'appName',
  'tags',
  'flushIntervalMs',
  'authToken',
] as const

const MAX_CAPTURE_SECONDS = 3600
const LABEL_UNSAFE = /[{},=]/
const VERSION: string = createRequire(import.meta.url)('../package.json').version
const silentLogger: ProfilerLogger = { warn() {} }

/**
 * Creates a handle on the one profiler of the process. The wall sampler of @datadog/pprof is a process
 * resource, so its owner lives on `globalThis[Symbol.for('goreliable.profiler')]` and is shared by every
 * handle (even from duplicate installs); it is released when the last handle closes.
 *
 * The owner cuts the sampler's timeline into segments at every boundary: each flush, and the start and end
 * of a capture. A segment goes to the continuous pusher and, inside a capture window, to the capture as
 * well, so a capture neither steals samples from Pyroscope nor stops the continuous sampler (the bug of
 * @pyroscope/nodejs's own middleware, which is why we do not use it, nor its wall profiler).
 *
 * Continuous profiling runs for one configuration at a time: `start()` on a second handle with the same
 * `pyroscope` options and sampling interval joins it (it runs until every starter has closed), with other
 * options it rejects with `GR_ERR_PROFILER_CONFLICT`. One CPU capture at a time per process: a second one
 * rejects with {@link ProfilerBusyError} (409). Do not also run @pyroscope/nodejs yourself in the process.
 * Bad options throw {@link InvalidOptionError} here.
 */
export function createProfiler(options: ProfilerOptions = {}): Profiler {
  const resolved = resolveOptions(options)
  const owner = acquireOwner()
  const token = {}
  const closed = new AbortController()
  // Operations in progress, so that close() waits for them: a start() still loading modules would otherwise
  // start continuous profiling after close() and leave it running.
  const running = new Set<Promise<unknown>>()
  const track = <T>(operation: Promise<T>): Promise<T> => {
    running.add(operation)
    operation.then(
      () => running.delete(operation),
      () => running.delete(operation),
    )
    return operation
  }
  let closing: Promise<void> | undefined
  const assertOpen = () => {
    if (closing !== undefined) {
      throw new GoreliableError(ErrorCodes.PROFILER_CLOSED, 'This profiler handle is closed', {
        statusCode: 503,
      })
    }
  }
  return {
    async start() {
      assertOpen()
      if (resolved.continuous !== undefined) await track(owner.startContinuous(token, resolved.continuous))
    },
    async captureCpuProfile(seconds: number) {
      if (typeof seconds !== 'number' || !(seconds > 0 && seconds <= MAX_CAPTURE_SECONDS)) {
        throw new InvalidOptionError('seconds', `a number > 0 and <= ${MAX_CAPTURE_SECONDS}`, seconds)
      }
      assertOpen()
      return track(owner.captureCpu(seconds, resolved.samplingIntervalMicros, closed.signal))
    },
    async captureHeapProfile() {
      assertOpen()
      return owner.captureHeap()
    },
    stats: () => owner.stats(),
    close() {
      closing ??= (async () => {
        closed.abort() // ends this handle's capture early; it still resolves with what it sampled
        await Promise.allSettled(running)
        await owner.stopContinuous(token)
        owner.release()
      })()
      return closing
    },
  }
}

interface ResolvedOptions {
  samplingIntervalMicros: number
  continuous: ContinuousConfig | undefined
}

function resolveOptions(options: unknown): ResolvedOptions {
  const o = requireObject('options', options)
  rejectUnknownKeys('', o, createProfilerOptionKeys)
  const samplingIntervalMicros = optionalNumber('samplingIntervalMicros', o.samplingIntervalMicros, 10_000, {
    min: 100,
    max: 1_000_000,
    integer: true,
  })
  const logger = o.logger === undefined ? silentLogger : (o.logger as ProfilerLogger)
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function') {
    throw new InvalidOptionError('logger', 'an object with a warn(obj, msg) method (pino fits)', o.logger)
  }
  const p = optionalObject('pyroscope', o.pyroscope)
  if (p === undefined) return { samplingIntervalMicros, continuous: undefined }
  rejectUnknownKeys('pyroscope', p, createProfilerPyroscopeOptionKeys)
  const serverAddress = requireString('pyroscope.serverAddress', p.serverAddress)
  if (!/^https?:$/.test(URL.parse(serverAddress)?.protocol ?? '')) {
    throw new InvalidOptionError('pyroscope.serverAddress', 'an http(s) URL', serverAddress)
  }
  const appName = requireLabelSafe('pyroscope.appName', requireString('pyroscope.appName', p.appName))
  const tags: Record<string, string> = {}
  for (const [k, v] of Object.entries(optionalObject('pyroscope.tags', p.tags) ?? {})) {
    tags[requireLabelSafe('pyroscope.tags', k)] = requireLabelSafe(
      `pyroscope.tags.${k}`,
      requireString(`pyroscope.tags.${k}`, v),
    )
  }
  const flushIntervalMs = optionalNumber('pyroscope.flushIntervalMs', p.flushIntervalMs, 15_000, {
    min: 1000,
    max: 3_600_000,
    integer: true,
  })
  const authToken = optionalString('pyroscope.authToken', p.authToken)
  const seriesTags = {
    'otel.scope.name': '@goreliable/core',
    'otel.scope.version': VERSION,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    ...tags,
  }
  return {
    samplingIntervalMicros,
    continuous: {
      key: JSON.stringify([
        serverAddress,
        appName,
        Object.entries(tags).sort(),
        flushIntervalMs,
        authToken ?? null,
        samplingIntervalMicros,
      ]),
      pyroscope: { serverAddress, appName, tags, flushIntervalMs, authToken },
      target: {
        ingestUrl: `${serverAddress.replace(/\/+$/, '')}/ingest`,
        seriesName: pyroscopeSeriesName(appName, seriesTags),
        authToken,
        timeoutMs: Math.min(10_000, flushIntervalMs),
      },
      samplingIntervalMicros,
      logger,
    },
  }
}

function requireLabelSafe(name: string, value: string): string {
  if (value.length === 0 || LABEL_UNSAFE.test(value)) {
    throw new InvalidOptionError(name, 'a non-empty string without { } , =', value)
  }
  return value
}
