// The two commands' own arguments, checked before anything starts: nothing here starts the stack.
import { describe, expect, it } from 'vitest'
import { parseCapacityStackArgs, runCapacityCommand } from '../src/capacity-command.js'
import { runChaosCommand } from '../src/chaos-command.js'

describe('parseCapacityStackArgs', () => {
  it('takes the stack flags out and leaves the rest for runCapacityCli', () => {
    expect(parseCapacityStackArgs(['--pool-max', '2', '--out', 'x', '--step-seconds', '3'])).toEqual({
      poolMax: 2,
      cpuHeavyMs: undefined,
      rest: ['--out', 'x', '--step-seconds', '3'],
    })
    expect(parseCapacityStackArgs(['--pool-max=3', '--cpu-heavy'])).toEqual({
      poolMax: 3,
      cpuHeavyMs: 5,
      rest: [],
    })
    expect(parseCapacityStackArgs(['--cpu-heavy', '--cpu-ms', '8']).cpuHeavyMs).toBe(8)
  })

  it.each([
    [['--pool-max', '0'], /--pool-max must be an integer from 1 to 1000/],
    [['--pool-max', 'two'], /--pool-max must be an integer/],
    [['--pool-max'], /--pool-max needs a value/],
    [['--cpu-ms', '3'], /--cpu-ms needs --cpu-heavy/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCapacityStackArgs(argv)).toThrow(message)
    try {
      parseCapacityStackArgs(argv)
    } catch (error) {
      expect((error as { code?: string }).code).toBe('GR_ERR_CHAOS_BAD_ARGUMENT')
    }
  })
})

describe('the commands refuse bad arguments before starting anything', () => {
  const run = async (command: typeof runChaosCommand | typeof runCapacityCommand, argv: string[]) => {
    const printed: string[] = []
    const result = await command({ argv, print: (line) => printed.push(line) })
    return { ...result, printed: printed.join('\n') }
  }

  it('chaos: an unknown experiment, an unknown flag, --help', async () => {
    const unknown = await run(runChaosCommand, ['--only', 'order-service-killed,nope'])
    expect(unknown.exitCode).toBe(2)
    expect(unknown.printed).toMatch(
      /GR_ERR_CHAOS_BAD_ARGUMENT: --only: no experiment named nope \(order-service-killed, /,
    )
    expect((await run(runChaosCommand, ['--bogus'])).exitCode).toBe(2)
    const help = await run(runChaosCommand, ['--help'])
    expect(help.exitCode).toBe(0)
    expect(help.printed).toMatch(/Usage: npm run chaos/)
  })

  it('capacity: a bad stack flag, a bad stepper flag, --help', async () => {
    const bad = await run(runCapacityCommand, ['--pool-max', '0'])
    expect(bad.exitCode).toBe(2)
    expect(bad.printed).toMatch(/--pool-max must be an integer/)
    const badStep = await run(runCapacityCommand, ['--step-seconds', 'soon'])
    expect(badStep.exitCode).toBe(2)
    expect(badStep.printed).toMatch(/--step-seconds must be a positive number/)
    const help = await run(runCapacityCommand, ['--help'])
    expect(help.exitCode).toBe(0)
    expect(help.printed).toMatch(/Usage: npm run capacity/)
    expect(help.printed).toMatch(/--cpu-heavy/)
  })
})
