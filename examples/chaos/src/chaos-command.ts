// `npm run chaos` against the example stack: starts the suite's stack once the arguments are known (so
// `--help` and a typo start nothing), runs the experiments through runChaosCli, and stops the stack.

import { join } from 'node:path'
import { type ChaosCliResult, parseChaosArgs, runChaosCli } from './chaos-cli.js'
import type { StackCommandOptions } from './command-main.js'
import { ChaosErrorCodes } from './errors.js'
import { CHAOS_EXPERIMENT_NAMES, chaosExperiments, startSuite } from './experiments/chaos-suite.js'
import type { ChaosStack } from './stack/chaos-stack.js'

/** Options of {@link runChaosCommand}. */
export type ChaosCommandOptions = StackCommandOptions

/** Runs the chaos suite; resolves with the exit code, the report and where it was written. */
export async function runChaosCommand(options: ChaosCommandOptions): Promise<ChaosCliResult> {
  const print = options.print ?? ((line: string) => console.log(line))
  // A misspelt --only is refused before the stack starts (runChaosCli would notice only after).
  try {
    const unknown = (parseChaosArgs(options.argv).only ?? []).filter(
      (name) => !(CHAOS_EXPERIMENT_NAMES as readonly string[]).includes(name),
    )
    if (unknown.length > 0) {
      print(
        `${ChaosErrorCodes.BAD_ARGUMENT}: --only: no experiment named ${unknown.join(', ')} (${CHAOS_EXPERIMENT_NAMES.join(', ')})`,
      )
      return { exitCode: 2 }
    }
  } catch {
    // A malformed command line: runChaosCli prints the usage and exits 2, starting nothing.
  }
  let stack: ChaosStack | undefined
  try {
    return await runChaosCli({
      argv: options.argv,
      print,
      experiments: async (args) => {
        const started = performance.now()
        const log = join(args.outDir, 'services.log')
        const suite = await startSuite(args.profile, {
          output: log,
          log: (line) => print(`[stack] ${line}`),
          ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
        })
        stack = suite.stack
        options.onStack?.(stack)
        print(
          `[stack] ready in ${((performance.now() - started) / 1000).toFixed(1)} s; services' output in ${log}`,
        )
        return chaosExperiments(suite)
      },
      // Generous: verify() may wait for a backlog of notifications after a long fault in the full profile.
      hookTimeoutMs: 120_000,
    })
  } finally {
    await stack?.stop()
  }
}
