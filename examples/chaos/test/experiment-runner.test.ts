import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  checkErrorRate,
  checkInvariants,
  checkNoStatuses,
  checkOnlyStatuses,
  checkRecoveredWithin,
  checkRetryAfter,
  createFaultProxy,
  type Experiment,
  type FaultProxy,
  formatChaosReportText,
  parseChaosArgs,
  runChaosCli,
  runExperiments,
} from '../src/index.js'

// A stand-in service behind a fault proxy: answers 201, or 503 with Retry-After while `overloaded`.
let server: Server
let proxy: FaultProxy
let overloaded = false
let url: string
const fast = { warmupMs: 300, faultMs: 600, minRecoverMs: 300, recoverMs: 4000, sustainMs: 400 }

beforeAll(async () => {
  server = createServer((_req, res) => {
    if (overloaded) res.writeHead(503, { 'retry-after': '1' }).end()
    else res.writeHead(201).end('{}')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  proxy = await createFaultProxy({
    targetHost: '127.0.0.1',
    targetPort: (server.address() as { port: number }).port,
  })
  url = `http://127.0.0.1:${proxy.port}/orders`
})

afterAll(async () => {
  await proxy.close()
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

const shedding: Experiment = {
  name: 'overload sheds with 503',
  expectation: 'Only 201 or 503 with Retry-After while overloaded; back to zero errors within 2 s.',
  phases: fast,
  fault: () => {
    overloaded = true
  },
  heal: () => {
    overloaded = false
  },
  verify: () => ({ lost: 0, duplicated: 0, details: 'stand-in' }),
  checks: (o) => [
    checkErrorRate(o.before, 0),
    checkOnlyStatuses(o.during, [201, 503]),
    checkRetryAfter(o.load!.samples, { from: o.window.faultStartedAt, to: o.window.healedAt }),
    checkRecoveredWithin(o.timeToRecoverMs, 2000),
    checkInvariants(o.invariants),
  ],
}

const resetIsNotTolerated: Experiment = {
  name: 'reset under load',
  expectation: 'No connection reset reaches the client.',
  phases: fast,
  fault: () => proxy.setFault({ mode: 'reset' }),
  heal: () => proxy.setFault({ mode: 'none' }),
  checks: (o) => [checkNoStatuses(o.during, [0])],
}

describe('runExperiments', () => {
  it('runs each experiment under load and reports what it observed', async () => {
    const lines: string[] = []
    const report = await runExperiments({
      experiments: [shedding, resetIsNotTolerated],
      load: { url, ratePerSecond: 50 },
      log: (l) => lines.push(l),
    })
    expect(report.pass).toBe(false)
    const [ok, bad] = report.results
    expect(ok!.checks.filter((c) => !c.pass)).toEqual([])
    expect(ok!.pass).toBe(true)
    expect(ok!.checks.map((c) => c.pass)).toEqual([true, true, true, true, true])
    expect(Object.keys(ok!.statusesDuringFault).sort()).toEqual(
      ['201', '503'].filter((s) => ok!.statusesDuringFault[s]),
    )
    expect(ok!.statusesDuringFault['503']).toBeGreaterThan(10)
    expect(ok!.errorRateDuringFault).toBeGreaterThan(0.5)
    expect(ok!.timeToRecoverMs).not.toBeNull()
    expect(ok!.invariants).toEqual({ lost: 0, duplicated: 0, details: 'stand-in' })

    expect(bad!.pass).toBe(false)
    expect(bad!.checks[0]).toMatchObject({ name: 'no 0', pass: false })
    expect(bad!.checks[0]!.observed).toMatch(/0×\d+/)
    expect(lines.some((l) => l.startsWith('[1/2 overload sheds with 503] fault'))).toBe(true)

    const text = formatChaosReportText(report)
    expect(text).toContain('overload sheds with 503')
    expect(text).toContain('reset under load: expected no 0; observed')
    expect(text.trimEnd().split('\n').at(-1)).toBe('chaos: 1 passed, 1 failed')
  })

  it('fails an experiment whose hook throws or hangs, still heals and tears down, and goes on', async () => {
    const calls: string[] = []
    const hangs: Experiment = {
      name: 'fault hangs',
      expectation: 'never judged',
      phases: { ...fast, faultMs: 0 },
      fault: (ctx) =>
        new Promise((resolve) => {
          calls.push('fault')
          ctx.signal.addEventListener('abort', () => calls.push('aborted'))
          setTimeout(resolve, 5000).unref()
        }),
      heal: () => {
        calls.push('heal')
      },
      checks: () => [],
      teardown: () => {
        calls.push('teardown')
      },
    }
    const setupThrows: Experiment = {
      name: 'setup throws',
      expectation: 'never judged',
      setup: () => {
        throw new Error('no database')
      },
      fault: () => {
        calls.push('never')
      },
      heal: () => {},
      checks: () => [],
      teardown: () => {
        calls.push('teardown 2')
      },
    }
    const report = await runExperiments({
      experiments: [hangs, setupThrows],
      hookTimeoutMs: 300,
      log: () => {},
    })
    expect(calls).toEqual(['fault', 'aborted', 'heal', 'teardown', 'teardown 2'])
    expect(report.results[0]!.errors[0]).toMatch(
      /^fault: GR_ERR_CHAOS_HOOK_TIMEOUT fault\(\) did not settle within 300 ms/,
    )
    expect(report.results[1]!.errors).toEqual(['setup: no database'])
    expect(report.results.every((r) => !r.pass)).toBe(true)
  })

  it('runs in a profile only the experiments meant for it, and validates its options', async () => {
    const fullOnly: Experiment = { ...shedding, name: 'full only', profiles: ['full'] }
    const report = await runExperiments({ experiments: [fullOnly], profile: 'short', log: () => {} })
    expect(report.results).toEqual([])
    await expect(runExperiments({ experiments: [shedding, shedding] })).rejects.toMatchObject({
      option: 'experiments[1].name',
    })
    await expect(runExperiments({ experiments: [shedding], only: ['nope'] })).rejects.toMatchObject({
      option: 'only',
    })
    await expect(runExperiments({ experiments: [], profile: { warmupMs: -1 } })).rejects.toMatchObject({
      option: 'profile.warmupMs',
    })
  })
})

describe('runChaosCli', () => {
  it('writes the Markdown and JSON reports and exits 1 when an expectation failed', async () => {
    const out = await mkdtemp(join(tmpdir(), 'chaos-cli-'))
    try {
      const printed: string[] = []
      const { exitCode: code, report } = await runChaosCli({
        experiments: [shedding, resetIsNotTolerated],
        load: { url, ratePerSecond: 40 },
        argv: ['--profile', 'short', '--out', out],
        print: (t) => printed.push(t),
      })
      if (code !== 1) console.log(printed.join('\n'))
      expect(code).toBe(1)
      expect(report?.results).toHaveLength(2)
      const markdown = await readFile(join(out, 'chaos-report.md'), 'utf8')
      expect(markdown).toContain('| experiment | expectation | error rate during fault | status codes seen |')
      expect(markdown).toMatch(/\| overload sheds with 503 \| .* \| PASS \|/)
      expect(markdown).toMatch(/\| reset under load \| .* \| FAIL \|/)
      const json = JSON.parse(await readFile(join(out, 'chaos-report.json'), 'utf8'))
      expect(json.profile.name).toBe('short')
      expect(json.results.map((r: { pass: boolean }) => r.pass)).toEqual([true, false])
      expect(printed.at(-1)).toContain('chaos-report.json')

      const { exitCode: onlyOne } = await runChaosCli({
        experiments: [shedding, resetIsNotTolerated],
        load: { url, ratePerSecond: 40 },
        argv: ['--out', out, '--only', 'overload sheds with 503'],
        print: () => {},
      })
      expect(onlyOne, printed.join('\n')).toBe(0)
    } finally {
      await rm(out, { recursive: true, force: true })
    }
  })

  it('exits 2 on a bad argument and explains the usage on --help', async () => {
    const printed: string[] = []
    const run = async (argv: string[]) =>
      (await runChaosCli({ experiments: [shedding], argv, print: (t) => printed.push(t) })).exitCode
    expect(await run(['--profile', 'medium'])).toBe(2)
    expect(printed.at(-1)).toMatch(/^GR_ERR_CHAOS_BAD_ARGUMENT: --profile must be short or full/)
    expect(await run(['--bogus'])).toBe(2)
    expect(await run(['--only', 'nope'])).toBe(2)
    expect(await run(['--help'])).toBe(0)
    expect(printed.at(-1)).toContain('Usage: npm run chaos')
    expect(parseChaosArgs(['--only', 'a,b', '--only', 'c'])).toEqual({
      profile: 'short',
      outDir: '.chaos-out',
      only: ['a', 'b', 'c'],
      help: false,
    })
  })
})
