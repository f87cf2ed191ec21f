import { parseArgs } from 'node:util'
import { InvalidOptionError, validate } from '@goreliable/core'
import { type CapacityResult, runCapacity } from './capacity.js'
import type { CapacityLoad, CapacityOptions, CapacityService } from './capacity-options.js'
import {
  capacityHeadline,
  capacityTableRows,
  type WrittenCapacityReport,
  writeCapacityReport,
} from './capacity-report.js'
import { DEFAULT_OUT_DIR } from './chaos-cli.js'
import { ChaosError, ChaosErrorCodes } from './errors.js'
import { renderTextTable } from './text-table.js'

/** What `capacity` reads from its command line. */
export interface CapacityArgs {
  outDir: string
  startRatePerSecond: number | undefined
  maxRatePerSecond: number | undefined
  growthFactor: number | undefined
  stepSeconds: number | undefined
  maxSteps: number | undefined
  help: boolean
}

/** Usage text of `capacity`. */
export const CAPACITY_USAGE = `Usage: npm run capacity -- [--out DIR] [--start-rate N] [--max-rate N] [--growth F] [--step-seconds S] [--max-steps N]

  --out           folder for capacity-report.md, capacity-report.json and capacity-chart.svg (default ${DEFAULT_OUT_DIR})
  --start-rate    offered requests/s of the first step (default 10)
  --max-rate      highest offered requests/s (default 2000)
  --growth        each step offers this many times the previous one (default 1.5)
  --step-seconds  length of each step (default 10)
  --max-steps     most steps (default 12)
Exit code: 0 when the profile was written, 2 for a bad argument.`

const NUMERIC = {
  'start-rate': 'startRatePerSecond',
  'max-rate': 'maxRatePerSecond',
  growth: 'growthFactor',
  'step-seconds': 'stepSeconds',
  'max-steps': 'maxSteps',
} as const

/** Parses `capacity`'s arguments; throws `GR_ERR_CHAOS_BAD_ARGUMENT` for an unknown one or a bad value. */
export function parseCapacityArgs(argv: readonly string[]): CapacityArgs {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      options: {
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(Object.keys(NUMERIC).map((k) => [k, { type: 'string' as const }])),
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    throw new ChaosError(ChaosErrorCodes.BAD_ARGUMENT, `${(error as Error).message}\n${CAPACITY_USAGE}`, {
      cause: error,
    })
  }
  const args: CapacityArgs = {
    outDir: (values.out as string | undefined) || DEFAULT_OUT_DIR,
    startRatePerSecond: undefined,
    maxRatePerSecond: undefined,
    growthFactor: undefined,
    stepSeconds: undefined,
    maxSteps: undefined,
    help: values.help === true,
  }
  for (const [flag, key] of Object.entries(NUMERIC)) {
    const raw = values[flag]
    if (raw === undefined) continue
    const n = Number(raw)
    if (!Number.isFinite(n) || n <= 0) {
      throw new ChaosError(ChaosErrorCodes.BAD_ARGUMENT, `--${flag} must be a positive number, not "${raw}"`)
    }
    args[key] = n
  }
  return args
}

/** Options of {@link runCapacityCli}. */
export interface CapacityCliOptions {
  /** What to send through the entry service. */
  load: CapacityLoad
  /** The services to read saturation signals from. */
  services: readonly CapacityService[]
  /** Further `runCapacity` options; the command line overrides the ones it has flags for. @default {} */
  defaults?: Partial<Omit<CapacityOptions, 'load' | 'services' | 'onProgress'>>
  /** The command-line arguments. @default process.argv.slice(2) */
  argv?: readonly string[]
  /** Where progress lines and the table go. @default console.log */
  print?: (text: string) => void
}

/** Every option key of {@link runCapacityCli}. */
export const runCapacityCliOptionKeys = ['load', 'services', 'defaults', 'argv', 'print'] as const

/** What {@link runCapacityCli} resolves with. */
export interface CapacityCliResult {
  /** 0 when the profile was written, 2 for a bad argument. */
  exitCode: number
  result?: CapacityResult
  written?: WrittenCapacityReport
}

/**
 * The `capacity` command: parses the arguments, runs {@link runCapacity} with a progress line per step,
 * prints the capacity profile table, and writes it as Markdown, JSON and an SVG chart.
 */
export async function runCapacityCli(options: CapacityCliOptions): Promise<CapacityCliResult> {
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, runCapacityCliOptionKeys)
  const print =
    validate.optionalFunction<(text: string) => void>('print', o.print) ?? ((t: string) => console.log(t))
  const defaults = validate.optionalObject('defaults', o.defaults) ?? {}
  if ('onProgress' in defaults)
    throw new InvalidOptionError('defaults.onProgress', 'not set: the command prints progress')
  let args: CapacityArgs
  try {
    args = parseCapacityArgs((o.argv as string[] | undefined) ?? process.argv.slice(2))
  } catch (error) {
    print(`${(error as ChaosError).code}: ${(error as Error).message}`)
    return { exitCode: 2 }
  }
  if (args.help) {
    print(CAPACITY_USAGE)
    return { exitCode: 0 }
  }
  const fromArgs: Partial<CapacityOptions> = {}
  if (args.startRatePerSecond !== undefined) fromArgs.startRatePerSecond = args.startRatePerSecond
  if (args.maxRatePerSecond !== undefined) fromArgs.maxRatePerSecond = args.maxRatePerSecond
  if (args.growthFactor !== undefined) fromArgs.growthFactor = args.growthFactor
  if (args.stepSeconds !== undefined) fromArgs.stepDurationMs = args.stepSeconds * 1000
  if (args.maxSteps !== undefined) fromArgs.maxSteps = Math.round(args.maxSteps)
  let result: CapacityResult
  try {
    result = await runCapacity({
      ...(defaults as Partial<CapacityOptions>),
      ...fromArgs,
      load: o.load as CapacityLoad,
      services: o.services as CapacityService[],
      onProgress: (line) => print(`[capacity] ${line}`),
    })
  } catch (error) {
    const option = (error as { option?: string }).option
    if (!option || !Object.keys(fromArgs).includes(option)) throw error
    print(`GR_ERR_CHAOS_BAD_ARGUMENT: ${(error as Error).message}`)
    return { exitCode: 2 }
  }
  print(
    [
      '',
      capacityHeadline(result),
      '',
      renderTextTable(
        ['service', 'max sustained rate', 'bottleneck', 'the metric that showed it'],
        capacityTableRows(result),
        [24, 20, 34, 60],
      ),
    ].join('\n'),
  )
  const written = await writeCapacityReport(result, args.outDir)
  print(`reports: ${written.markdownPath}, ${written.jsonPath}, ${written.svgPath}`)
  return { exitCode: 0, result, written }
}
