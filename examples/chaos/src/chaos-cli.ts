import { parseArgs } from 'node:util'
import { InvalidOptionError, validate } from '@goreliable/core'
import { formatChaosReportText, type WrittenReport, writeChaosReport } from './chaos-report.js'
import { ChaosError, ChaosErrorCodes } from './errors.js'
import type { ChaosReport, Experiment, LoadSpec } from './experiment.js'
import { runExperiments } from './experiment-runner.js'
import { PROFILE_NAMES, type ProfileName, type ProfileSettings } from './profiles.js'

/** What `chaos` reads from its command line. */
export interface ChaosArgs {
  profile: ProfileName
  outDir: string
  only: string[] | undefined
  help: boolean
}

/** The default output folder of `chaos` and `capacity` (git-ignored at the repository root). */
export const DEFAULT_OUT_DIR = '.chaos-out'

/** Usage text of `chaos`. */
export const CHAOS_USAGE = `Usage: npm run chaos -- [--profile short|full] [--out DIR] [--only NAME[,NAME...]]

  --profile  short (the default; a few minutes, as CI runs it) or full (longer faults, heavier load)
  --out      folder for chaos-report.md and chaos-report.json (default ${DEFAULT_OUT_DIR})
  --only     run only the named experiments
Exit code: 0 when every expectation held, 1 when one failed, 2 for a bad argument.`

/** Parses `chaos`'s arguments; throws `GR_ERR_CHAOS_BAD_ARGUMENT` for an unknown one or a bad value. */
export function parseChaosArgs(argv: readonly string[]): ChaosArgs {
  let values: { profile?: string; out?: string; only?: string[]; help?: boolean }
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      options: {
        profile: { type: 'string' },
        out: { type: 'string' },
        only: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    throw new ChaosError(ChaosErrorCodes.BAD_ARGUMENT, `${(error as Error).message}\n${CHAOS_USAGE}`, {
      cause: error,
    })
  }
  const profile = values.profile ?? 'short'
  if (!(PROFILE_NAMES as readonly string[]).includes(profile)) {
    throw new ChaosError(ChaosErrorCodes.BAD_ARGUMENT, `--profile must be short or full, not "${profile}"`)
  }
  if (values.out === '') throw new ChaosError(ChaosErrorCodes.BAD_ARGUMENT, '--out needs a folder')
  const only = values.only
    ?.flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean)
  return {
    profile: profile as ProfileName,
    outDir: values.out ?? DEFAULT_OUT_DIR,
    only,
    help: values.help ?? false,
  }
}

/** Options of {@link runChaosCli}. */
export interface ChaosCliOptions {
  /** The experiments; a function receives the parsed arguments (to start only what the selection needs). */
  experiments:
    | readonly Experiment[]
    | ((args: ChaosArgs) => readonly Experiment[] | Promise<readonly Experiment[]>)
  /** The default load of the experiments. @default none */
  load?: LoadSpec | ((profile: Readonly<ProfileSettings>) => LoadSpec)
  /** The command-line arguments. @default process.argv.slice(2) */
  argv?: readonly string[]
  /** Where progress and the final table go. @default console.log */
  print?: (text: string) => void
  /** Longest time for one experiment hook. @default 60000 */
  hookTimeoutMs?: number
}

/** What {@link runChaosCli} resolves with. */
export interface ChaosCliResult {
  /** 0 when every expectation held, 1 when one failed, 2 for a bad argument. */
  exitCode: number
  /** The report; undefined for `--help` and bad arguments. */
  report?: ChaosReport
  /** Where the reports were written. */
  written?: WrittenReport
}

/** Every option key of {@link runChaosCli}. */
export const runChaosCliOptionKeys = ['experiments', 'load', 'argv', 'print', 'hookTimeoutMs'] as const

/**
 * The `chaos` command: parses the arguments, runs the experiments, prints the table, writes the Markdown and
 * JSON reports, and resolves with the exit code (0 all passed, 1 a failure, 2 a bad argument) and the report.
 * The caller sets `process.exitCode` with it, so every service it started can still be stopped cleanly.
 */
export async function runChaosCli(options: ChaosCliOptions): Promise<ChaosCliResult> {
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, runChaosCliOptionKeys)
  const print =
    validate.optionalFunction<(text: string) => void>('print', o.print) ?? ((t: string) => console.log(t))
  if (typeof o.experiments !== 'function' && !Array.isArray(o.experiments)) {
    throw new InvalidOptionError(
      'experiments',
      'an array of experiments or a function returning one',
      o.experiments,
    )
  }
  let args: ChaosArgs
  try {
    args = parseChaosArgs((o.argv as string[] | undefined) ?? process.argv.slice(2))
  } catch (error) {
    print(`${(error as ChaosError).code}: ${(error as Error).message}`)
    return { exitCode: 2 }
  }
  if (args.help) {
    print(CHAOS_USAGE)
    return { exitCode: 0 }
  }
  const experiments =
    typeof o.experiments === 'function'
      ? await (o.experiments as (a: ChaosArgs) => Promise<readonly Experiment[]>)(args)
      : (o.experiments as readonly Experiment[])
  let report: ChaosReport
  try {
    report = await runExperiments({
      experiments,
      profile: args.profile,
      ...(args.only ? { only: args.only } : {}),
      ...(o.load ? { load: o.load as LoadSpec } : {}),
      ...(o.hookTimeoutMs !== undefined ? { hookTimeoutMs: o.hookTimeoutMs as number } : {}),
      log: print,
    })
  } catch (error) {
    if ((error as { code?: string }).code !== 'GR_ERR_INVALID_OPTION' || !args.only) throw error
    print(`GR_ERR_CHAOS_BAD_ARGUMENT: --only: ${(error as Error).message}`)
    return { exitCode: 2 }
  }
  print(formatChaosReportText(report))
  const written = await writeChaosReport(report, args.outDir)
  print(`reports: ${written.markdownPath}, ${written.jsonPath}`)
  return { exitCode: report.pass ? 0 : 1, report, written }
}
