import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { formatRate, formatStatuses } from './checks.js'
import type { ChaosReport, ExperimentResult } from './experiment.js'
import { renderMarkdownTable, renderTextTable } from './text-table.js'

const HEADERS = [
  'experiment',
  'expectation',
  'error rate during fault',
  'status codes seen',
  'time to recover',
  'lost / duplicated',
  'result',
] as const

function cells(r: ExperimentResult): string[] {
  const during = r.summaries?.during
  return [
    r.name,
    r.expectation,
    during && r.errorRateDuringFault !== null ? formatRate(during.errors, during.requests) : 'n/a',
    during ? formatStatuses(r.statusesDuringFault) : 'n/a',
    r.timeToRecoverMs === null
      ? r.summaries && r.errorRateDuringFault !== null
        ? 'not recovered'
        : 'n/a'
      : `${(r.timeToRecoverMs / 1000).toFixed(1)} s`,
    r.invariants ? `${r.invariants.lost} / ${r.invariants.duplicated}` : 'n/a',
    r.pass ? 'PASS' : 'FAIL',
  ]
}

/** Why each failed experiment failed: its failed checks and hook errors. */
function failures(report: ChaosReport): string[] {
  const lines: string[] = []
  for (const r of report.results) {
    if (r.pass) continue
    for (const c of r.checks.filter((c) => !c.pass))
      lines.push(`${r.name}: expected ${c.name}; observed ${c.observed}`)
    for (const e of r.errors) lines.push(`${r.name}: ${e}`)
  }
  return lines
}

function verdict(report: ChaosReport): string {
  const failed = report.results.filter((r) => !r.pass).length
  return `${report.results.length - failed} passed, ${failed} failed`
}

/** The report as the terminal shows it: the table, the reasons for each failure, and a closing count. */
export function formatChaosReportText(report: ChaosReport): string {
  const table = renderTextTable(HEADERS, report.results.map(cells), [28, 44, 14, 24, 10, 10, 6])
  const why = failures(report)
  return [
    `chaos (${report.profile.name} profile, ${(report.durationMs / 1000).toFixed(0)} s)`,
    '',
    table,
    ...(why.length ? ['', ...why.map((l) => `  ✗ ${l}`)] : []),
    '',
    `chaos: ${verdict(report)}`,
  ].join('\n')
}

/** The report as Markdown: the table, then every check of every experiment. */
export function formatChaosReportMarkdown(report: ChaosReport): string {
  const out = [
    '# Chaos report',
    '',
    `Profile \`${report.profile.name}\`, started ${report.startedAt}, ${(report.durationMs / 1000).toFixed(0)} s: ${verdict(report)}.`,
    '',
    renderMarkdownTable(HEADERS, report.results.map(cells)),
    '',
    '## Checks',
  ]
  for (const r of report.results) {
    out.push('', `### ${r.name}: ${r.pass ? 'PASS' : 'FAIL'}`, '', r.expectation, '')
    for (const c of r.checks) out.push(`- ${c.pass ? '✓' : '✗'} ${c.name}: ${c.observed}`)
    for (const e of r.errors) out.push(`- ✗ ${e}`)
    if (r.invariants?.details) out.push(`- invariants: ${r.invariants.details}`)
  }
  return `${out.join('\n')}\n`
}

/** Where {@link writeChaosReport} wrote. */
export interface WrittenReport {
  markdownPath: string
  jsonPath: string
}

/** Writes `chaos-report.md` and `chaos-report.json` into `outDir` (created when missing). */
export async function writeChaosReport(report: ChaosReport, outDir: string): Promise<WrittenReport> {
  const dir = resolve(outDir)
  await mkdir(dir, { recursive: true })
  const markdownPath = join(dir, 'chaos-report.md')
  const jsonPath = join(dir, 'chaos-report.json')
  await writeFile(markdownPath, formatChaosReportMarkdown(report))
  await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`)
  return { markdownPath, jsonPath }
}
