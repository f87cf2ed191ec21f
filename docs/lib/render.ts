// Markdown for the generated reference pages. The lists come from the code (reference.ts); the words
// come from where they are already written and tested: each error's cause and remedy from its
// package's README, each metric's meaning from its HELP text, its alerts from public/alerts.yaml.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import type { MetricInfo, PackageReference } from './reference.js'
import { type PackageSource, packageSources, repoRoot } from './sources.js'

export interface AlertRule {
  alert: string
  expr: string
  for?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  /** The expression with the recording rules it reads spelt out, to find the metrics behind them. */
  reads: string
  /** Which rules file it comes from (an entry of alertSources). */
  source: AlertSource
}

export interface AlertSource {
  /** Absolute path of a Prometheus rules file. */
  file: string
  /** How the metrics page names it. */
  title: string
  /** Where the site shows it. */
  link: string
}

/**
 * Where the alerts come from, first match first: the example stack's rules (deployed with it and unit-tested
 * with `promtool test rules`), then the site's own rules file for the metrics those do not cover.
 */
export const alertSources: AlertSource[] = [
  {
    file: join(repoRoot, 'examples/k8s/monitoring/rules/goreliable.rules.yml'),
    title: 'the example stack’s rules',
    link: '/reference/alerts#the-example-stack-s-rules',
  },
  {
    file: fileURLToPath(new URL('../public/alerts.yaml', import.meta.url)),
    title: 'alerts.yaml',
    link: '/reference/alerts#more-rules-alerts-yaml',
  },
]

interface RuleDoc {
  groups: { rules: ({ alert?: string; record?: string; expr: string } & Partial<AlertRule>)[] }[]
}

/** Every alerting rule of the files in alertSources that exist. */
export function loadAlerts(sources = alertSources): AlertRule[] {
  const out: AlertRule[] = []
  for (const source of sources) {
    if (!existsSync(source.file)) continue
    const rules = (parse(readFileSync(source.file, 'utf8')) as RuleDoc).groups.flatMap((g) => g.rules)
    const records = new Map(rules.filter((r) => r.record).map((r) => [r.record!, String(r.expr)]))
    const spell = (expr: string, depth = 0): string =>
      depth > 5
        ? expr
        : [
            expr,
            ...[...records].filter(([name]) => expr.includes(name)).map(([, e]) => spell(e, depth + 1)),
          ].join('\n')
    for (const r of rules) {
      if (!r.alert) continue
      out.push({ ...r, alert: r.alert, expr: String(r.expr), reads: spell(String(r.expr)), source })
    }
  }
  return out
}

/** A name the user picks (core's queue-depth gauge) is matched through the name the examples use. */
const EXAMPLE_NAME = 'queue_depth_messages'

/** The alerts whose expression reads this metric (a histogram through its _bucket, _sum or _count). */
export function alertsFor(metric: string, alerts: AlertRule[]): AlertRule[] {
  const name = metric.replace('<name>', EXAMPLE_NAME)
  const re = new RegExp(`(?<![A-Za-z0-9_:])${name}(?:_bucket|_sum|_count)?(?![A-Za-z0-9_:])`)
  return alerts.filter((a) => re.test(a.reads))
}

/** The lines of a README's Markdown tables, grouped by table. */
function tables(markdown: string): string[][] {
  const out: string[][] = []
  let current: string[] | null = null
  for (const line of markdown.split('\n')) {
    if (line.trimStart().startsWith('|')) {
      if (!current) {
        current = []
        out.push(current)
      }
      current.push(line.trim())
    } else current = null
  }
  return out
}

function firstCell(row: string): string {
  return row.split('|')[1]?.trim() ?? ''
}

/** Keeps a README's relative links from dangling on another page: their text stays, the link goes. */
function unlinkRelative(markdown: string): string {
  return markdown.replace(/\[([^\]]*)\]\((?![a-z]+:|\/|#)[^)]*\)/gi, '$1')
}

export interface ReadmeRow {
  /** The table's header and separator lines. */
  head: [string, string]
  row: string
}

/** The README table row whose first cell is this code in backticks, with its table's header. */
export function readmeRow(markdown: string, token: string): ReadmeRow | null {
  for (const table of tables(markdown)) {
    if (table.length < 3) continue
    const row = table.slice(2).find((r) => firstCell(r) === `\`${token}\``)
    if (row) return { head: [table[0]!, table[1]!], row }
  }
  return null
}

function readmeOf(source: PackageSource | undefined): string {
  return source?.readme ? readFileSync(source.readme, 'utf8') : ''
}

export function renderErrorsPage(refs: PackageReference[], sources = packageSources()): string {
  const lines = [
    '# Error codes',
    '',
    'Every error that @goreliable raises has a stable `code`: match on it, not on the class.',
    '`isGoreliableError(err)` holds for errors from any copy of any @goreliable package, so it survives a',
    'duplicate install where `instanceof` does not. With `@goreliable/fastify`, an error that carries',
    '`retryAfterSeconds` is answered `503` with a `Retry-After` header and the JSON body',
    '`{ statusCode, code, error, message }`.',
    '',
    'This page is generated when the site is built: the codes are read from each package’s built code,',
    'and each row is the one in that package’s README.',
  ]
  for (const ref of refs) {
    if (ref.errorCodes.length === 0) continue
    const source = sources.find((s) => s.id === ref.id)
    const readme = readmeOf(source)
    lines.push('', `## ${ref.name}`, '')
    const byHead = new Map<string, { head: [string, string]; rows: string[] }>()
    const missing: string[] = []
    for (const code of ref.errorCodes) {
      const found = readmeRow(readme, code)
      if (!found) {
        missing.push(code)
        continue
      }
      const key = found.head.join('\n')
      if (!byHead.has(key)) byHead.set(key, { head: found.head, rows: [] })
      byHead.get(key)!.rows.push(unlinkRelative(found.row))
    }
    for (const { head, rows } of byHead.values()) lines.push(...head, ...rows, '')
    if (missing.length > 0) {
      lines.push('Not documented yet (no README row):', '')
      for (const code of missing) lines.push(`- \`${code}\` <Badge type="danger" text="undocumented" />`)
      lines.push('')
    }
    lines.push(`More in the [${ref.name} reference](./${ref.id}).`)
  }
  return `${lines.join('\n')}\n`
}

function yamlBlock(rule: AlertRule): string[] {
  const expr = rule.expr.trim()
  const lines = [`- alert: ${rule.alert}`]
  if (expr.includes('\n')) lines.push('  expr: |', ...expr.split('\n').map((l) => `    ${l}`))
  else lines.push(`  expr: ${expr}`)
  if (rule.for) lines.push(`  for: ${rule.for}`)
  return ['```yaml', ...lines, '```']
}

/** The anchor of a metric's section: its name, with a user-chosen `<name>` as `name`. */
export function metricAnchor(name: string): string {
  return name.replace(/[<>]/g, '')
}

function renderMetric(metric: MetricInfo, alerts: AlertRule[]): string[] {
  const labels = metric.labels.length > 0 ? metric.labels.map((l) => `\`${l}\``).join(', ') : 'none'
  const out = [
    `### \`${metric.name}\` {#${metricAnchor(metric.name)}}`,
    '',
    `**${metric.type}** · labels: ${labels}`,
    '',
    metric.help,
    '',
  ]
  const using = alertsFor(metric.name, alerts)
  if (using.length === 0) out.push('**Alert:** <Badge type="danger" text="none yet" />', '')
  for (const rule of using) {
    const why = rule.annotations?.description ?? rule.annotations?.summary ?? ''
    out.push(
      // Annotations hold Prometheus templates ({{ $labels.job }}); v-pre keeps Vue from reading them.
      `**Alert \`${rule.alert}\`** (from [${rule.source.title}](${rule.source.link})): <span v-pre>${why}</span>`,
      '',
      ...yamlBlock(rule),
      '',
    )
  }
  return out
}

export function renderMetricsPage(refs: PackageReference[], alerts = loadAlerts()): string {
  const lines = [
    '# Metrics',
    '',
    'Every metric the @goreliable packages export, with its type, labels, meaning and an alert that reads',
    'it. The alerts come from two Prometheus rules files, shown whole on the [alert rules](./alerts) page:',
    'the example stack’s rules, which it deploys and unit-tests with `promtool test rules`, and',
    '`alerts.yaml`, which covers the metrics those leave out. prom-client’s default process and Node.js',
    'metrics (`process_cpu_seconds_total`, `nodejs_eventloop_lag_seconds`, …) are exported too; see',
    '[prom-client](https://github.com/siimon/prom-client#default-metrics).',
    '',
    '::: info Generated from the code',
    'This page is written when the site is built, by running every package’s factories into a private',
    'registry and reading back what they registered: names, types, labels and HELP texts cannot fall behind',
    'the code, and a metric without an alert fails the site’s test.',
    ':::',
    '',
    '| metric | type | package | alerts |',
    '| --- | --- | --- | --- |',
  ]
  for (const ref of refs) {
    for (const m of ref.metrics ?? []) {
      const names = alertsFor(m.name, alerts).map((a) => `\`${a.alert}\``)
      lines.push(
        `| [\`${m.name}\`](#${metricAnchor(m.name)}) | ${m.type} | ${ref.name} | ${names.join(', ') || '–'} |`,
      )
    }
  }
  for (const ref of refs) {
    if (!ref.metrics || ref.metrics.length === 0) continue
    lines.push('', `## ${ref.name}`, '', `Details in the [${ref.name} reference](./${ref.id}).`, '')
    for (const metric of ref.metrics) lines.push(...renderMetric(metric, alerts))
  }
  return `${lines.join('\n')}\n`
}

/** The admin server's route rows of the fastify README: first cell a method and a path in backticks. */
export function adminRouteRows(readme: string): string[] {
  const out: string[] = []
  for (const table of tables(readme)) {
    if (table.length < 3) continue
    const rows = table.slice(2).filter((r) => /^`(GET|POST|PUT|DELETE|PATCH|HEAD) \//.test(firstCell(r)))
    if (rows.length > 0) out.push(table[0]!, table[1]!, ...rows.map(unlinkRelative), '')
  }
  return out
}

/** The admin-routes page: the prose of reference/_admin-routes.md around the fastify README's route table. */
export function renderAdminRoutesPage(sources = packageSources()): string {
  const template = readFileSync(
    fileURLToPath(new URL('../reference/_admin-routes.md', import.meta.url)),
    'utf8',
  )
  const fastify = sources.find((s) => s.id === 'fastify')
  const rows = adminRouteRows(readmeOf(fastify))
  const table =
    rows.length > 0
      ? rows.join('\n')
      : '::: warning\nThe route table comes from the `@goreliable/fastify` README, which has none yet.\n:::\n'
  return template.replace('<!-- @routes -->', () => table)
}
