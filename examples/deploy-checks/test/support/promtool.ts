import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/** Debian's promtool (package prometheus); .ci/run installs it when missing. */
export const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool'

/** True when promtool is there. Outside CI a missing promtool skips its tests with a message. */
export function havePromtool(): boolean {
  if (existsSync(PROMTOOL)) return true
  if (process.env.CI) throw new Error(`${PROMTOOL} is missing: install Debian's prometheus package`)
  console.warn(
    `promtool not found at ${PROMTOOL}: set PROMTOOL or apt-get install prometheus; skipping its checks`,
  )
  return false
}

export interface Run {
  status: number | null
  output: string
}

/** Runs promtool with the given arguments in `cwd`. */
export function promtool(args: string[], cwd?: string): Run {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8', timeout: 30_000 })
  return { status: r.status, output: `${r.stdout}${r.stderr}` }
}
