// The switch of the CPU stress preloaded into the worker (see worker-cpu-stress-preload.ts): the stack
// starts the worker with the preload and a command file of its own, and the experiment flips it here.

import { existsSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { writeCpuStressCommand } from '../cpu-stress-command.js'

/** The built preload, from `src/stack` and from `dist/stack` alike. */
export const WORKER_CPU_STRESS_PRELOAD = fileURLToPath(
  new URL('../../dist/worker-cpu-stress-preload.js', import.meta.url),
)

/** Options of {@link WorkerCpuStress.start}. */
export interface WorkerCpuStressStartOptions {
  /** Share of each 100 ms slice of the worker's event loop spent busy. @default 80 (the StressChaos manifest) */
  loadPercent?: number
  /** Longest run: the preload stops by itself after this, even if `stop()` is never called. */
  maxMs: number
}

/** Turns the worker's CPU stress on and off. */
export interface WorkerCpuStress {
  /** The variables that load the preload into a process and point it at the command file. */
  readonly env: Readonly<Record<string, string>>
  /** How the stress is applied, for the report. */
  describe(loadPercent?: number): string
  start(options: WorkerCpuStressStartOptions): void
  stop(): void
  /** Removes the command file. */
  close(): void
}

/** A switch writing to `file`; the preload reads it. */
export function createWorkerCpuStress(options: { file: string }): WorkerCpuStress {
  const { file } = options
  if (!existsSync(WORKER_CPU_STRESS_PRELOAD)) {
    throw new Error(`${WORKER_CPU_STRESS_PRELOAD} is missing: build examples/chaos first (npx tsc -b)`)
  }
  const stop = () => writeCpuStressCommand(file, { loadPercent: 0, untilMs: 0 })
  stop()
  return {
    env: { NODE_OPTIONS: `--import=${WORKER_CPU_STRESS_PRELOAD}`, CHAOS_CPU_STRESS_FILE: file },
    describe: (loadPercent = 80) =>
      `${loadPercent}% of the worker's own event loop (in-process burner, 100 ms slices)`,
    start({ loadPercent = 80, maxMs }) {
      writeCpuStressCommand(file, { loadPercent, untilMs: Date.now() + maxMs })
    },
    stop,
    close() {
      rmSync(file, { force: true })
    },
  }
}
