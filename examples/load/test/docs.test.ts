// Keeps README.md and the code in step: every flag, variable and threshold.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { thresholds, usage } from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const documented = (name: string) => readme.includes(`\`${name}\``)
const k6Script = readFileSync(new URL('../k6/orders.js', import.meta.url), 'utf8')

describe('README.md documents', () => {
  const flags = [...usage.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]!)

  it.each(flags)('flag %s', (flag) => {
    expect(readme).toContain(`\`${flag}`)
  })
  it.each(['GATEWAY_URL', 'BASE_URL', 'CLIENT_ID', 'CLIENT_SECRET'])('variable %s', (name) => {
    expect(documented(name)).toBe(true)
  })
  it.each(thresholds.map((t) => [t.metric, t.expression]))('threshold %s %s', (metric, expression) => {
    expect(documented(metric)).toBe(true)
    expect(documented(expression)).toBe(true)
  })
})

describe('the k6 script and npm run load agree', () => {
  it.each(thresholds.map((t) => [t.metric, t.expression]))('%s: %s', (metric, expression) => {
    expect(k6Script).toContain(`${metric}: ['${expression}']`)
  })
  it('on the stages of --full', () => {
    expect(k6Script).toContain("{ duration: '2m', target: 100 }")
    expect(k6Script).toContain("{ duration: '5m', target: 100 }")
    expect(k6Script).toContain("{ duration: '1m', target: 0 }")
  })
})
