// What the two command entry points (`chaos-main.ts`, `capacity-main.ts`) share: Ctrl-C stops the stack and
// drops its schema before leaving (a second one leaves at once; the supervisor and the nats-server launcher
// SIGKILL their children when this process exits), an error is printed with the command's name, and the
// process leaves as soon as the command is done, without waiting for a library's idle timer.

import type { ChaosStack } from './stack/chaos-stack.js'

/** Options of the commands that start the stack (`runChaosCommand`, `runCapacityCommand`). */
export interface StackCommandOptions {
  argv: readonly string[]
  print?: (line: string) => void
  /** Called with the stack once it runs (the command's signal handler stops it). */
  onStack?: (stack: ChaosStack) => void
  /** The PostgreSQL to use. @default DATABASE_URL, else the local server */
  databaseUrl?: string
}

/** What a command's runner gets from {@link runCommandMain}. */
export interface CommandMainContext {
  argv: readonly string[]
  /** Give the stack once it runs, so that a signal can stop it. */
  onStack: (stack: ChaosStack) => void
}

/** Runs a command as this process's main: signals, exit code, and the exit itself. */
export async function runCommandMain(
  name: string,
  run: (context: CommandMainContext) => Promise<{ exitCode: number }>,
): Promise<never> {
  let stack: ChaosStack | undefined
  let interrupted = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(130)
      interrupted = true
      console.log(`\n${signal}: stopping the stack (again to leave at once)`)
      void (stack?.stop() ?? Promise.resolve()).finally(() => process.exit(130))
    })
  }
  try {
    const { exitCode } = await run({
      argv: process.argv.slice(2),
      onStack: (s) => {
        stack = s
      },
    })
    process.exitCode = exitCode
  } catch (error) {
    console.error(`${name}: ${(error as Error).stack ?? String(error)}`)
    process.exitCode = 1
  }
  // Everything the command started is stopped by now.
  process.exit()
}
