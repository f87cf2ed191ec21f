import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { CapacityResult } from './capacity.js'
import { formatMs, formatPercent, formatReading, SIGNAL_LABELS } from './capacity-format.js'
import { type CapacityChartOptions, renderCapacityChart } from './svg-chart.js'
import { renderMarkdownTable } from './text-table.js'

/** One line on where the system broke and why. */
export function capacityHeadline(result: CapacityResult): string {
  const b = result.bottleneck
  const broke =
    result.breakingStep === null
      ? `No threshold broke up to ${result.steps.at(-1)?.offeredRatePerSecond ?? 0} req/s offered.`
      : `Broke at ${result.steps[result.breakingStep]!.offeredRatePerSecond} req/s offered: ${result.steps[result.breakingStep]!.breaches.join(', ')}.`
  const sustained =
    result.maxSustainedRatePerSecond === null
      ? 'The first step already broke a threshold.'
      : `Max sustained: ${result.maxSustainedRatePerSecond} req/s offered.`
  const why = b
    ? `Bottleneck: ${b.service}, ${SIGNAL_LABELS[b.signal]} (${b.evidence}, first at ${b.offeredRatePerSecond} req/s).`
    : 'Bottleneck: no saturation signal crossed.'
  return `${broke} ${sustained} ${why}`
}

/** The capacity profile table: service, max sustained rate, bottleneck, the metric that showed it. */
export function capacityTableRows(result: CapacityResult): string[][] {
  return result.services.map((s) => [
    s.name,
    s.maxSustainedRate === null ? 'none' : `${formatRate(s.maxSustainedRate)} ${s.unit}`,
    s.bottleneck ? SIGNAL_LABELS[s.bottleneck.signal] : 'none seen',
    s.bottleneck ? `${s.bottleneck.evidence} at ${s.bottleneck.offeredRatePerSecond} req/s` : '–',
  ])
}

/** The capacity profile as Markdown: headline, profile table, the chart, and every step. */
export function formatCapacityMarkdown(result: CapacityResult, chartFile = 'capacity-chart.svg'): string {
  const steps = result.steps.map((s) => [
    String(s.offeredRatePerSecond),
    s.achievedPerSecond.toFixed(1),
    formatMs(s.p50Ms),
    formatMs(s.p99Ms),
    formatPercent(s.errorRate),
    s.services
      .map(
        (svc) =>
          `${svc.name}: ${svc.signals.map((r) => `${r.signal} ${formatReading(r)}${r.crossed ? ' (crossed)' : ''}`).join(', ') || 'no signals'}`,
      )
      .join('; '),
    s.withinThresholds ? 'yes' : `no: ${s.breaches.join(', ')}`,
  ])
  return [
    '# Capacity profile',
    '',
    capacityHeadline(result),
    '',
    renderMarkdownTable(
      ['service', 'max sustained rate', 'bottleneck', 'the metric that showed it'],
      capacityTableRows(result),
    ),
    '',
    `![throughput and p99 against offered load](${chartFile})`,
    '',
    '## Steps',
    '',
    renderMarkdownTable(
      ['offered (req/s)', 'ok (req/s)', 'p50', 'p99', 'errors', 'saturation signals', 'within thresholds'],
      steps,
    ),
    '',
  ].join('\n')
}

/** Where {@link writeCapacityReport} wrote. */
export interface WrittenCapacityReport {
  markdownPath: string
  jsonPath: string
  svgPath: string
}

/** Writes `capacity-report.md`, `capacity-report.json` and `capacity-chart.svg` into `outDir`. */
export async function writeCapacityReport(
  result: CapacityResult,
  outDir: string,
  chart: CapacityChartOptions = {},
): Promise<WrittenCapacityReport> {
  const dir = resolve(outDir)
  await mkdir(dir, { recursive: true })
  const markdownPath = join(dir, 'capacity-report.md')
  const jsonPath = join(dir, 'capacity-report.json')
  const svgPath = join(dir, 'capacity-chart.svg')
  await writeFile(markdownPath, formatCapacityMarkdown(result))
  await writeFile(jsonPath, `${JSON.stringify(result, null, 2)}\n`)
  await writeFile(svgPath, renderCapacityChart(result, chart))
  return { markdownPath, jsonPath, svgPath }
}

function formatRate(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1)
}
