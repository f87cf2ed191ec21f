// `npm run capacity` against the example stack: the stack's own flags (`--pool-max`, `--cpu-heavy`,
// `--cpu-ms`) are read here, the rest by runCapacityCli. One gateway, one order-service instance (so its
// saturation signals are its own), the worker and the email provider, each a process on 127.0.0.1.

import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  CAPACITY_USAGE,
  type CapacityArgs,
  type CapacityCliResult,
  parseCapacityArgs,
  runCapacityCli,
} from './capacity-cli.js'
import type { CapacityService } from './capacity-options.js'
import type { StackCommandOptions } from './command-main.js'
import { ChaosError, ChaosErrorCodes } from './errors.js'
import { orderLoad } from './experiments/suite.js'
import { type ChaosStack, startChaosStack } from './stack/chaos-stack.js'

/** The stack's settings for a capacity run, from the command line. */
export interface CapacityStackArgs {
  /** `DATABASE_POOL_MAX` of the order service; undefined for its default (10). */
  poolMax: number | undefined
  /** Milliseconds of CPU burnt per API request in the order service; undefined for none. */
  cpuHeavyMs: number | undefined
  /** The arguments left for runCapacityCli. */
  rest: string[]
}

/** Usage of the flags this command adds to `CAPACITY_USAGE`. */
export const CAPACITY_STACK_USAGE = `Stack flags:
  --pool-max N    the order service's DATABASE_POOL_MAX (default 10)
  --cpu-heavy     make the order service burn CPU in every API request (a CPU-bound handler)
  --cpu-ms MS     CPU burnt per request with --cpu-heavy (default 5)`

/** Takes `--pool-max N`, `--cpu-heavy` and `--cpu-ms MS` (also as `--flag=value`) out of `argv`. */
export function parseCapacityStackArgs(argv: readonly string[]): CapacityStackArgs {
  const rest: string[] = []
  let poolMax: number | undefined
  let cpuHeavy = false
  let cpuMs: number | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined]
    const value = () => {
      const v = inline ?? argv[++i]
      if (v === undefined) throw new ChaosError(ChaosErrorCodes.BAD_ARGUMENT, `${flag} needs a value`)
      return v
    }
    if (flag === '--pool-max') poolMax = positiveInteger(flag, value(), 1000)
    else if (flag === '--cpu-ms') cpuMs = positiveInteger(flag, value(), 1000)
    else if (flag === '--cpu-heavy' && inline === undefined) cpuHeavy = true
    else rest.push(arg)
  }
  if (cpuMs !== undefined && !cpuHeavy)
    throw new ChaosError(ChaosErrorCodes.BAD_ARGUMENT, '--cpu-ms needs --cpu-heavy')
  return { poolMax, cpuHeavyMs: cpuHeavy ? (cpuMs ?? 5) : undefined, rest }
}

/** What the capacity run reads from the stack: the three services and how each one's throughput is counted. */
export function capacityServices(stack: ChaosStack): CapacityService[] {
  const [gateway] = stack.gateways.values()
  const [orderService] = stack.orderServices.values()
  const orders = { method: 'POST', route: '/api/v1/orders' }
  return [
    {
      name: 'gateway',
      metricsUrl: gateway!.metricsUrl!,
      throughput: { metric: 'http_request_duration_seconds_count', labels: orders, unit: 'req/s' },
    },
    {
      name: 'order-service',
      metricsUrl: orderService!.metricsUrl!,
      throughput: {
        metric: 'http_request_duration_seconds_count',
        labels: { ...orders, status_code: '201' },
        perMinute: true,
        unit: 'orders/min',
      },
    },
    {
      name: 'notification-worker',
      metricsUrl: stack.worker.metricsUrl!,
      throughput: {
        metric: 'nats_messages_total',
        labels: { outcome: 'ack' },
        unit: 'messages/s per instance',
      },
    },
  ]
}

/** Options of {@link runCapacityCommand}. */
export type CapacityCommandOptions = StackCommandOptions

/** Starts the stack, runs the capacity profile through the gateway, stops the stack; resolves with the CLI's result. */
export async function runCapacityCommand(options: CapacityCommandOptions): Promise<CapacityCliResult> {
  const print = options.print ?? ((line: string) => console.log(line))
  let args: CapacityStackArgs
  let cliArgs: CapacityArgs
  try {
    args = parseCapacityStackArgs(options.argv)
    // Checked before the stack starts, so a typo costs nothing.
    cliArgs = parseCapacityArgs(args.rest)
  } catch (error) {
    print(`${(error as ChaosError).code}: ${(error as Error).message}\n${CAPACITY_STACK_USAGE}`)
    return { exitCode: 2 }
  }
  if (cliArgs.help) {
    print(`${CAPACITY_USAGE}\n${CAPACITY_STACK_USAGE}`)
    return { exitCode: 0 }
  }
  const outDir = cliArgs.outDir
  const env: Record<string, string> = {}
  if (args.poolMax !== undefined) env.DATABASE_POOL_MAX = String(args.poolMax)
  if (args.cpuHeavyMs !== undefined) {
    // The built file, whether this runs from dist/ (the command) or from src/ (the tests, through vitest).
    const preload = fileURLToPath(new URL('../dist/cpu-heavy-preload.js', import.meta.url))
    if (!existsSync(preload))
      throw new Error(`${preload} is missing: build examples/chaos first (npx tsc -b)`)
    env.NODE_OPTIONS = `--import=${preload}`
    env.CHAOS_CPU_BURN_MS = String(args.cpuHeavyMs)
  }
  print(
    `[capacity] order service: DATABASE_POOL_MAX=${args.poolMax ?? '10 (default)'}${args.cpuHeavyMs ? `, CPU-heavy (${args.cpuHeavyMs} ms of CPU per request)` : ''}`,
  )
  const stack = await startChaosStack({
    orderServices: [{ name: 'order-service', env }],
    gateways: [{ name: 'gateway', upstreams: ['order-service'] }],
    output: join(outDir, 'capacity-services.log'),
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    log: (line) => print(`[stack] ${line}`),
  })
  options.onStack?.(stack)
  try {
    const [gateway] = stack.gateways.values()
    const { keepBody: _keepBody, ...load } = orderLoad(stack, gateway!, { timeoutMs: 2000 })
    return await runCapacityCli({ load, services: capacityServices(stack), argv: args.rest, print })
  } finally {
    await stack.stop()
  }
}

function positiveInteger(flag: string, raw: string, max: number): number {
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || n < 1 || n > max)
    throw new ChaosError(
      ChaosErrorCodes.BAD_ARGUMENT,
      `${flag} must be an integer from 1 to ${max}, not "${raw}"`,
    )
  return n
}
