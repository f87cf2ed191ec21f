// A PromQL reader just deep enough to say which metric names and label names an expression uses, so the
// configs can be checked against the contract. Not a parser: it removes what cannot be a metric name
// (strings, label matchers, ranges, numbers, grouping clauses, function names) and reads what is left.

export interface PromqlUse {
  /** Names of the series the expression selects. */
  metrics: string[]
  /** Label names in matchers and in by/without/on/ignoring/group_left/group_right clauses. */
  labels: string[]
  /** Label names of the by(...) clauses alone: what survives aggregation. */
  byLabels: string[]
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'inf',
  'nan',
  'atan2',
])

const BACKTICK = '`'
const STRING = String.raw`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|${BACKTICK}[^${BACKTICK}]*${BACKTICK}`
const MATCHER_BLOCK = new RegExp(String.raw`\{(?:[^{}"'${BACKTICK}]|${STRING})*\}`, 'g')
const MATCHER = new RegExp(String.raw`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*(?:${STRING})`, 'g')
const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g
const IDENTIFIER = /(?<![\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])/g

/**
 * What an expression uses. Grafana variables (`$__rate_interval`, `$job`) and Prometheus Adapter templates
 * (`<<.Series>>`, `<<.LabelMatchers>>`) are removed first; pass `series` to stand in for `<<.Series>>`.
 */
export function readPromql(expr: string, series?: string): PromqlUse {
  let text = expr.replaceAll('<<.Series>>', series ?? '').replace(/<<[^>]*>>/g, '')
  text = text.replace(/\$\{?\w+\}?/g, '')
  const labels = new Set<string>()
  const byLabels = new Set<string>()
  const metrics = new Set<string>()

  text = text.replace(MATCHER_BLOCK, (block) => {
    for (const m of block.matchAll(MATCHER)) {
      // {__name__="x"} names a metric, not a label.
      if (m[1] === '__name__') {
        const value = m[0].slice(m[0].search(/["'`]/) + 1, -1)
        if (/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(value)) metrics.add(value)
      } else labels.add(m[1]!)
    }
    return ' '
  })
  text = text.replace(new RegExp(STRING, 'g'), ' ')
  text = text.replace(GROUPING, (_all, clause: string, list: string) => {
    for (const name of list.split(',').map((s) => s.trim())) {
      if (name === '') continue
      labels.add(name)
      if (clause === 'by') byLabels.add(name)
    }
    return ' '
  })
  text = text.replace(/\[[^\]]*\]/g, ' ')
  for (const m of text.matchAll(IDENTIFIER)) {
    const name = m[1]!
    const after = text.slice(m.index! + name.length)
    if (/^\s*\(/.test(after) || KEYWORDS.has(name.toLowerCase())) continue
    metrics.add(name)
  }
  return { metrics: [...metrics].sort(), labels: [...labels].sort(), byLabels: [...byLabels].sort() }
}
