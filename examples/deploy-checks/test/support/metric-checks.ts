import { CONTRACT_METRICS, contractSeries, TARGET_LABELS } from './contract.js'
import { readPromql } from './promql.js'

/** Series defined by recording rules, with the labels they keep. */
export type Recorded = Map<string, string[]>

export interface QueryUse {
  /** Where the query is, for messages. */
  where: string
  expr: string
  /** Stands in for `<<.Series>>` (Prometheus Adapter). */
  series?: string
  /** Labels a template reads from the result: Grafana `{{label}}` legends, alert `$labels.x`. */
  templateLabels?: string[]
}

/**
 * Every metric a query selects must be a contract series (or a recorded one), every label it names must be
 * a label of those metrics or one Prometheus adds, and every label its template reads must survive the
 * query's aggregation. Returns one message per problem.
 */
export function queryProblems(q: QueryUse, recorded: Recorded = new Map()): string[] {
  const problems: string[] = []
  const use = readPromql(q.expr, q.series)
  const series = contractSeries()
  if (use.metrics.length === 0) problems.push(`${q.where}: selects no metric`)
  const known = new Set<string>(TARGET_LABELS)
  for (const m of use.metrics) {
    const family = series.get(m)
    if (family) for (const l of CONTRACT_METRICS[family].labels) known.add(l)
    else if (recorded.has(m)) for (const l of recorded.get(m)!) known.add(l)
    else problems.push(`${q.where}: ${m} is not a contract metric`)
  }
  for (const l of use.labels)
    if (!known.has(l)) problems.push(`${q.where}: label ${l} is not a label of ${use.metrics.join(', ')}`)
  // After `sum by (a, b)`, only a and b remain.
  const available = use.byLabels.length > 0 ? new Set(use.byLabels) : known
  for (const l of q.templateLabels ?? []) {
    if (!available.has(l))
      problems.push(`${q.where}: the template reads label ${l}, which the query does not keep`)
  }
  return problems
}

/** Labels a Grafana legend (`{{job}} {{route}}`) reads. */
export const legendLabels = (legend = '') => [...legend.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!)

/** Labels an alert annotation (`{{ $labels.job }}`) reads. */
export const annotationLabels = (text = '') => [...text.matchAll(/\$labels\.(\w+)/g)].map((m) => m[1]!)
