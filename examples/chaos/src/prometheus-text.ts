// A small parser for the Prometheus text exposition format (version 0.0.4), the output of every service's
// /metrics. It returns flat samples, which is all the capacity stepper needs; `parse-prometheus-text-format`
// was considered but returns prom2json's nested shape with values as strings, ships no types, and has had
// no release since 2024, for what fits in this file.

/** One sample line: `name{labels} value`. Histogram and summary series appear under their own names (`_bucket`, `_sum`, `_count`). */
export interface PromSample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Parses exposition text into samples; comment lines are skipped and malformed lines ignored, as a scraper would. */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const sample = parseLine(line)
    if (sample) samples.push(sample)
  }
  return samples
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/

function parseLine(line: string): PromSample | undefined {
  const name = NAME.exec(line)?.[0]
  if (!name) return undefined
  let i = name.length
  const labels: Record<string, string> = {}
  if (line[i] === '{') {
    i++
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++
      if (line[i] === '}') {
        i++
        break
      }
      const labelName = LABEL_NAME.exec(line.slice(i))?.[0]
      if (!labelName || line[i + labelName.length] !== '=' || line[i + labelName.length + 1] !== '"')
        return undefined
      i += labelName.length + 2
      let value = ''
      for (; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\') {
          const next = line[++i]
          value += next === 'n' ? '\n' : (next ?? '')
        } else {
          value += line[i]
        }
      }
      if (line[i] !== '"') return undefined
      i++
      labels[labelName] = value
    }
  }
  // The value, then an optional timestamp, which the stepper does not need.
  const valueText = line.slice(i).trim().split(/\s+/)[0]
  if (valueText === undefined || valueText === '') return undefined
  const value = parseValue(valueText)
  return Number.isNaN(value) && valueText !== 'NaN' ? undefined : { name, labels, value }
}

function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY
  if (text === '-Inf') return Number.NEGATIVE_INFINITY
  if (text === 'NaN') return Number.NaN
  return Number(text)
}

/** True when every label in `match` has that value on the sample. */
export function labelsMatch(sample: PromSample, match: Record<string, string> | undefined): boolean {
  if (!match) return true
  for (const [k, v] of Object.entries(match)) if (sample.labels[k] !== v) return false
  return true
}

/** The sum of the series of `name` whose labels match; undefined when there is none. */
export function sumSeries(
  samples: readonly PromSample[],
  name: string,
  match?: Record<string, string>,
): number | undefined {
  let total: number | undefined
  for (const s of samples) {
    if (s.name === name && labelsMatch(s, match)) total = (total ?? 0) + s.value
  }
  return total
}

/** The largest value among the series of `name` whose labels match; undefined when there is none. */
export function maxSeries(
  samples: readonly PromSample[],
  name: string,
  match?: Record<string, string>,
): number | undefined {
  let max: number | undefined
  for (const s of samples) {
    if (s.name === name && labelsMatch(s, match)) max = max === undefined ? s.value : Math.max(max, s.value)
  }
  return max
}
