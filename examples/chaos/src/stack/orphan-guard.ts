// Every service of the stack runs in a process group of its own (so a Ctrl-C reaches the command, which
// stops them in order). The price: if the command dies without stopping them (SIGKILL, a test runner that
// tears its worker down), they run on. The guard is a small process of its own that holds the other end of a
// pipe: when the pipe closes without a clean goodbye, it stops the groups it was told about and drops the
// run's schema.

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The command's side of the guard. */
export interface OrphanGuard {
  /** Look after this process group (a pid that leads its own group). */
  add(pid: number): void
  /** The group ended (stopped here): forget it, so a reused pid is never signalled. */
  remove(pid: number): void
  /** Drop this schema if the command dies. */
  schema(name: string, databaseUrl: string): void
  /** Everything stopped cleanly: the guard exits without doing anything. */
  close(): void
}

/** Starts the guard; a no-op guard when its built file is missing (running from src without a build). */
export function startOrphanGuard(): OrphanGuard {
  // The built file, whether this module runs from dist/ or from src/ (the tests, through vitest).
  const entry = fileURLToPath(new URL('../../dist/stack/orphan-guard-process.js', import.meta.url))
  if (!existsSync(entry)) return { add() {}, remove() {}, schema() {}, close() {} }
  const child: ChildProcess = spawn(process.execPath, [entry], {
    stdio: ['pipe', 'ignore', 'ignore'],
    // Its own group: a Ctrl-C meant for the command must not stop the guard before the command cleans up.
    detached: true,
  })
  child.on('error', () => {})
  child.stdin?.on('error', () => {})
  // Neither the guard nor its pipe may keep the command alive.
  child.unref()
  ;(child.stdin as unknown as { unref?: () => void } | null)?.unref?.()
  const send = (message: object) => {
    if (child.stdin?.writable) child.stdin.write(`${JSON.stringify(message)}\n`)
  }
  return {
    add: (pid) => send({ add: pid }),
    remove: (pid) => send({ remove: pid }),
    schema: (name, databaseUrl) => send({ schema: name, databaseUrl }),
    close() {
      send({ done: true })
      child.stdin?.end()
    },
  }
}
