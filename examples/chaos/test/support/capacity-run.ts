// What the two attribution tests against the real stack share: `npm run capacity` with a few flags of their
// own, short steps, the output in a folder of the test's own (removed after), and the printed lines kept for
// the assertion messages.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CapacityCliResult } from '../../src/capacity-cli.js'
import { runCapacityCommand } from '../../src/capacity-command.js'

/** The command's result and everything it printed, one string. */
export type CapacityRun = CapacityCliResult & { log: string }

/** Runs the capacity command with `flags` and short steps, hands the run to `check`, then cleans up. */
export async function withCapacityRun(
  options: { databaseUrl: string; flags: string[]; maxSteps: number },
  check: (run: CapacityRun) => Promise<void>,
): Promise<void> {
  const out = await mkdtemp(join(tmpdir(), 'capacity-stack-'))
  const printed: string[] = []
  try {
    const result = await runCapacityCommand({
      argv: [
        ...options.flags,
        '--out',
        out,
        '--start-rate',
        '10',
        '--growth',
        '1.6',
        '--step-seconds',
        '3',
        '--max-steps',
        String(options.maxSteps),
      ],
      databaseUrl: options.databaseUrl,
      print: (line) => {
        printed.push(line)
        console.log(line)
      },
    })
    await check({ ...result, log: printed.join('\n') })
  } finally {
    await rm(out, { recursive: true, force: true })
  }
}
