import { ErrorCodes, GoreliableError, ProfilerBusyError } from './errors.js'
import type { ProfilerLogger, ProfilerStats, PyroscopeOptions } from './profiler.js'
import {
  encodeProfile,
  mergeProfiles,
  type ProfileLike,
  type PushTarget,
  pushProfile,
  startPyroscopeHeap,
  stopPyroscopeHeap,
} from './pyroscope-push.js'

/**
 * Internal to @goreliable/core: the one owner of the process's wall sampler, shared by every profiler handle.
 * See createProfiler in profiler.ts for the semantics users see.
 */

/** A handle's resolved continuous-profiling configuration. */
export interface ContinuousConfig {
  /** Two handles with the same key may share continuous profiling; a different key conflicts. */
  key: string
  pyroscope: Required<Omit<PyroscopeOptions, 'authToken'>> & { authToken: string | undefined }
  target: PushTarget
  samplingIntervalMicros: number
  logger: ProfilerLogger
}

/** What every copy of @goreliable/core relies on; bump OWNER_PROTOCOL when it changes. */
interface Owner {
  readonly protocol: number
  acquire(): void
  release(): void
  startContinuous(holder: object, config: ContinuousConfig): Promise<void>
  stopContinuous(holder: object): Promise<void>
  /** Ends early, with what it sampled, when `signal` aborts. */
  captureCpu(seconds: number, intervalMicros: number, signal: AbortSignal): Promise<Buffer>
  captureHeap(): Promise<Buffer>
  stats(): ProfilerStats
}

const kOwner = Symbol.for('goreliable.profiler')
const OWNER_PROTOCOL = 1
// The heap sampling parameters of @pyroscope/nodejs, so that a capture reads what its pusher started.
const HEAP_INTERVAL_BYTES = 512 * 1024
const HEAP_STACK_DEPTH = 64
// Only sizes buffers for sample contexts (which we do not collect); @pyroscope/nodejs passes the same.
const SAMPLER_DURATION_MS = 60_000

/**
 * The owner lives on globalThis, so duplicate installs share it; it carries its own implementation, so a
 * second copy drives the first copy's code instead of a second sampler.
 */
export function acquireOwner(): Owner {
  const g = globalThis as Record<symbol, Owner | undefined>
  let owner = g[kOwner]
  if (owner === undefined) {
    const created = createOwner(() => {
      if (g[kOwner] === created) delete g[kOwner]
    })
    g[kOwner] = created
    owner = created
  }
  if (owner.protocol !== OWNER_PROTOCOL) {
    throw conflict(
      `An incompatible copy of @goreliable/core (profiler protocol ${owner.protocol}) owns the profiler`,
    )
  }
  owner.acquire()
  return owner
}

function conflict(message: string): GoreliableError {
  return new GoreliableError(ErrorCodes.PROFILER_CONFLICT, message, { statusCode: 409 })
}

// Imported lazily, so that users of the rest of @goreliable/core never load the native module.
type Pprof = typeof import('@datadog/pprof')
interface Segment {
  profile: ProfileLike
  startMs: number
  endMs: number
}
interface Continuous {
  config: ContinuousConfig
  holders: Set<object>
  /** Segments not pushed yet. Merged into one push, so a capture's boundaries do not multiply pushes. */
  pending: Segment[]
  inFlight: Promise<void> | undefined
  failing: boolean
  timer: NodeJS.Timeout | undefined
  pyroscopeHeap: boolean
}
interface Capture {
  intervalMicros: number
  segments: Segment[]
}

function createOwner(onIdle: () => void): Owner {
  let pprof: Pprof | undefined
  let sampler: { segmentStartMs: number; intervalMicros: number } | undefined
  let continuous: Continuous | undefined
  let capture: Capture | undefined
  let stopping: Promise<void> | undefined
  let heapStartedBy: 'nobody' | 'capture' | 'pyroscope' = 'nobody'
  let handles = 0
  const counts = { pushesSucceeded: 0, pushesFailed: 0 }

  const loadPprof = async (): Promise<Pprof> => {
    pprof ??= await import('@datadog/pprof')
    return pprof
  }

  /** Someone else (dd-trace, a hand-made @pyroscope/nodejs) runs the sampler: we must not cut their profile. */
  const assertSamplerFree = ({ time }: Pprof) => {
    if (sampler === undefined && time.isStarted()) {
      throw conflict('The @datadog/pprof wall profiler was started by another library in this process')
    }
  }

  /**
   * The one place the sampler is cut: the segment since the last boundary goes to the consumers that were
   * active before `change`, then the sampler keeps running, stops, or starts for the consumers after it.
   */
  const boundary = ({ time }: Pprof, change: () => void) => {
    const targets = [continuous?.pending, capture?.segments].filter((t) => t !== undefined)
    change()
    const needed = continuous !== undefined || capture !== undefined
    const nowMs = Date.now()
    if (sampler !== undefined) {
      const segmentStartMs = sampler.segmentStartMs
      try {
        // One call returns the profile and restarts sampling, without a gap the continuous stream would miss.
        const profile = time.stop(needed)
        for (const t of targets) t.push({ profile, startMs: segmentStartMs, endMs: nowMs })
        if (needed) sampler.segmentStartMs = nowMs
        else sampler = undefined
      } catch (err) {
        // Someone stopped our sampler behind our back; this segment is lost, the next boundary restarts it.
        sampler = undefined
        continuous?.config.logger.warn(
          { err },
          'The wall profiler was stopped by someone else; restarting it',
        )
      }
    }
    if (sampler === undefined && needed) {
      const intervalMicros = continuous?.config.samplingIntervalMicros ?? capture?.intervalMicros ?? 10_000
      time.start({
        intervalMicros,
        durationMillis: SAMPLER_DURATION_MS,
        withContexts: false,
        workaroundV8Bug: true,
      })
      sampler = { segmentStartMs: nowMs, intervalMicros }
    }
  }

  const pushPending = async (c: Continuous): Promise<void> => {
    const segments = c.pending
    const first = segments[0]
    const last = segments.at(-1)
    // One push at a time: while one is in flight, segments wait and go out merged with the next flush.
    if (c.inFlight !== undefined || first === undefined || last === undefined) return
    c.pending = []
    const { target, logger, pyroscope } = c.config
    const run = async () => {
      try {
        const profile = mergeProfiles(
          segments.map((s) => s.profile),
          first.startMs,
          true,
        )
        const sampleRate = Math.round(
          1_000_000 / (sampler?.intervalMicros ?? c.config.samplingIntervalMicros),
        )
        await pushProfile(target, profile, { fromMs: first.startMs, untilMs: last.endMs, sampleRate })
        counts.pushesSucceeded += 1
        if (c.failing)
          logger.info?.({ serverAddress: pyroscope.serverAddress }, 'Pyroscope pushes succeed again')
        c.failing = false
      } catch (err) {
        counts.pushesFailed += 1
        // Once per run of failures: a Pyroscope outage must not flood the logs every flush.
        if (!c.failing) logger.warn({ err, serverAddress: pyroscope.serverAddress }, 'Pyroscope push failed')
        c.failing = true
      }
    }
    c.inFlight = run().finally(() => {
      c.inFlight = undefined
    })
    await c.inFlight
  }

  const owner: Owner = {
    protocol: OWNER_PROTOCOL,
    acquire() {
      handles += 1
    },
    release() {
      handles -= 1
      if (handles > 0) return
      if (heapStartedBy === 'capture') pprof?.heap.stop()
      heapStartedBy = 'nobody'
      onIdle()
    },

    async startContinuous(holder, config) {
      const modules = await loadPprof()
      const pyroscope = (await import('@pyroscope/nodejs')).default
      while (stopping !== undefined) await stopping
      // From here on, no await until the state is committed: two concurrent starts cannot both win.
      if (continuous !== undefined) {
        if (continuous.config.key !== config.key) {
          throw conflict(
            `Continuous profiling already runs with other options (appName "${continuous.config.pyroscope.appName}")`,
          )
        }
        continuous.holders.add(holder)
        return
      }
      assertSamplerFree(modules)
      const c: Continuous = {
        config,
        holders: new Set([holder]),
        pending: [],
        inFlight: undefined,
        failing: false,
        timer: undefined,
        pyroscopeHeap: false,
      }
      try {
        boundary(modules, () => {
          continuous = c
        })
      } catch (err) {
        continuous = undefined
        throw err
      }
      c.timer = setInterval(() => {
        try {
          boundary(modules, () => {})
        } catch (err) {
          // A throw here would crash the process from a timer; the next flush tries to start the sampler again.
          config.logger.warn({ err }, 'The wall profiler could not be restarted')
        }
        void pushPending(c)
      }, config.pyroscope.flushIntervalMs)
      c.timer.unref()
      // heap.start throws when sampling runs already: the sampling started for captures makes way.
      if (heapStartedBy === 'capture') modules.heap.stop()
      c.pyroscopeHeap = startPyroscopeHeap(pyroscope, config, HEAP_INTERVAL_BYTES, HEAP_STACK_DEPTH)
      heapStartedBy = c.pyroscopeHeap ? 'pyroscope' : 'nobody'
    },

    async stopContinuous(holder) {
      const c = continuous
      if (c === undefined || pprof === undefined || !c.holders.delete(holder) || c.holders.size > 0) return
      clearInterval(c.timer)
      boundary(pprof, () => {
        continuous = undefined
      })
      const last = (async () => {
        await c.inFlight
        await pushPending(c)
        if (c.pyroscopeHeap) {
          await stopPyroscopeHeap(c.config.target.timeoutMs)
          heapStartedBy = 'nobody'
        }
      })()
      stopping = last.finally(() => {
        stopping = undefined
      })
      await stopping
    },

    async captureCpu(seconds, intervalMicros, signal) {
      const modules = await loadPprof()
      if (capture !== undefined) throw new ProfilerBusyError()
      assertSamplerFree(modules)
      const cap: Capture = { intervalMicros, segments: [] }
      try {
        boundary(modules, () => {
          capture = cap
        })
      } catch (err) {
        capture = undefined
        throw err
      }
      let finish = () => {}
      const ended = new Promise<void>((resolve) => {
        finish = resolve
      })
      // Not unref'd: an awaited capture keeps the process alive, as any awaited sleep does.
      const timer = setTimeout(finish, seconds * 1000)
      signal.addEventListener('abort', finish, { once: true })
      if (signal.aborted) finish()
      await ended
      clearTimeout(timer)
      signal.removeEventListener('abort', finish)
      boundary(modules, () => {
        capture = undefined
      })
      // Merged even when one segment: copies it (it may be pending for a push too) and stamps its start.
      const startMs = cap.segments[0]?.startMs ?? Date.now()
      return encodeProfile(
        mergeProfiles(
          cap.segments.map((s) => s.profile),
          startMs,
        ),
      )
    },

    async captureHeap() {
      const { heap } = await loadPprof()
      if (heapStartedBy === 'nobody') {
        try {
          heap.start(HEAP_INTERVAL_BYTES, HEAP_STACK_DEPTH)
          heapStartedBy = 'capture'
        } catch {
          // Another library samples the heap already; its snapshot serves as well.
        }
      }
      return encodeProfile(heap.profile())
    },

    stats: () => ({
      continuous: continuous !== undefined,
      capturing: capture !== undefined,
      pushesSucceeded: counts.pushesSucceeded,
      pushesFailed: counts.pushesFailed,
    }),
  }
  return owner
}
