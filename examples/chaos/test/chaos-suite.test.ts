// `npm run chaos -- --profile short` end to end: the example services as processes, a private nats-server,
// the real PostgreSQL (a schema of the run's own, dropped after), the fault proxies, every experiment of
// the issue with its expectations, the report files and the exit code. About two minutes.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { runChaosCommand } from '../src/chaos-command.js'
import { CHAOS_EXPERIMENT_NAMES } from '../src/experiments/chaos-suite.js'
import { stackPrerequisites } from './support/stack-prerequisites.js'

const databaseUrl = await stackPrerequisites()

describe.skipIf(!databaseUrl)('npm run chaos (short profile)', () => {
  it('runs the five experiments and the run invariants against the real stack, and every expectation holds', async () => {
    const out = await mkdtemp(join(tmpdir(), 'chaos-suite-'))
    const printed: string[] = []
    let schema: string | undefined
    let passed = false
    try {
      const { exitCode, report, written } = await runChaosCommand({
        argv: ['--profile', 'short', '--out', out],
        databaseUrl: databaseUrl!,
        print: (line) => {
          printed.push(line)
          console.log(line)
        },
        onStack: (stack) => {
          schema = stack.db.schema
        },
      })
      const failures = (report?.results ?? [])
        .filter((r) => !r.pass)
        .map(
          (r) =>
            `${r.name}: ${[...r.checks.filter((c) => !c.pass).map((c) => `${c.name} (${c.observed})`), ...r.errors].join('; ')}`,
        )
      expect(failures, printed.join('\n')).toEqual([])
      expect(exitCode).toBe(0)
      expect(report!.results.map((r) => r.name)).toEqual([...CHAOS_EXPERIMENT_NAMES])
      for (const r of report!.results) {
        expect(r.invariants, r.name).toMatchObject({ lost: 0, duplicated: 0 })
      }
      // The faults were real: the one-instance kill and the partition made the gateway answer 503.
      expect(report!.results[0]!.statusesDuringFault['503']).toBeGreaterThan(0)
      expect(report!.results[2]!.statusesDuringFault['503']).toBeGreaterThan(0)

      const markdown = await readFile(written!.markdownPath, 'utf8')
      expect(markdown).toContain(
        '| experiment | expectation | error rate during fault | status codes seen | time to recover | lost / duplicated | result |',
      )
      expect(JSON.parse(await readFile(written!.jsonPath, 'utf8')).pass).toBe(true)
      expect(printed.join('\n')).toMatch(/chaos: 7 passed, 0 failed/)
      passed = true
    } finally {
      // Kept when something failed: the report and the services' output say why.
      if (passed) await rm(out, { recursive: true, force: true })
      else console.log(`chaos output kept in ${out} (chaos-report.md, services.log)`)
    }
    // The run's schema is gone: the stack dropped it when it stopped.
    const client = new pg.Client({ connectionString: databaseUrl! })
    await client.connect()
    try {
      const { rowCount } = await client.query('select 1 from pg_namespace where nspname = $1', [schema])
      expect(schema).toMatch(/^chaos_[0-9a-f]{8}$/)
      expect(rowCount).toBe(0)
    } finally {
      await client.end()
    }
  }, 360_000)
})
