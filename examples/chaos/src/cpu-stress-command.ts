// The command file between the chaos suite and the CPU stress preloaded into the worker: the suite writes
// it, the preload reads it once per slice. A file rather than a signal because it carries the load and a
// deadline, and a deadline makes the stress end by itself even when the suite dies before it can stop it.

import { readFileSync, renameSync, writeFileSync } from 'node:fs'

/** What the preload does: burn `loadPercent` of every 100 ms until `untilMs` (epoch ms). */
export interface CpuStressCommand {
  /** Share of the event loop to burn, 0 to 100 (StressChaos `load`). */
  loadPercent: number
  /** Epoch milliseconds after which the stress stops whatever the file says later. */
  untilMs: number
}

/** The command in `file`, or undefined when there is none or it is unreadable (no stress). */
export function readCpuStressCommand(file: string): CpuStressCommand | undefined {
  try {
    const o = JSON.parse(readFileSync(file, 'utf8')) as Partial<CpuStressCommand>
    if (typeof o.loadPercent !== 'number' || typeof o.untilMs !== 'number') return undefined
    return { loadPercent: Math.min(100, Math.max(0, o.loadPercent)), untilMs: o.untilMs }
  } catch {
    return undefined
  }
}

/** Replaces the command in `file` at once (write, then rename: the reader never sees half a file). */
export function writeCpuStressCommand(file: string, command: CpuStressCommand): void {
  const partial = `${file}.${process.pid}.tmp`
  writeFileSync(partial, JSON.stringify(command))
  renameSync(partial, file)
}
