import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { build } from './support/builds.js'
import { SERVICE_NAMES, SERVICES } from './support/contract.js'
import { COMPOSE_DIR, RULES_DIR, RULES_FILE, RULES_TEST_FILE } from './support/paths.js'
import { havePromtool, promtool } from './support/promtool.js'

const have = havePromtool()
const scratch = mkdtempSync(join(tmpdir(), 'deploy-checks-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

interface Rule {
  alert?: string
  record?: string
  expr: string
}
const rulesFile = () =>
  parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }
const alerts = () => rulesFile().groups.flatMap((g) => g.rules.filter((r) => r.alert).map((r) => r.alert!))

/** A copy of the rules folder with the rules file changed, for proving that the tests catch a change. */
function changedRules(name: string, change: (text: string) => string): string {
  const dir = join(scratch, name)
  mkdirSync(dir, { recursive: true })
  copyFileSync(RULES_TEST_FILE, join(dir, 'goreliable.rules.test.yml'))
  const text = readFileSync(RULES_FILE, 'utf8')
  const changed = change(text)
  expect(changed, 'the change applies').not.toBe(text)
  writeFileSync(join(dir, 'goreliable.rules.yml'), changed)
  return dir
}

describe.skipIf(!have)('alert rules (promtool)', () => {
  it('pass `promtool check rules`', () => {
    const r = promtool(['check', 'rules', RULES_FILE])
    expect(r.output).toContain('SUCCESS')
    expect(r.status, r.output).toBe(0)
    const count = rulesFile().groups.reduce((n, g) => n + g.rules.length, 0)
    expect(r.output).toContain(`${count} rules found`)
  })

  it('pass their unit tests, `promtool test rules`', () => {
    const r = promtool(['test', 'rules', 'goreliable.rules.test.yml'], RULES_DIR)
    expect(r.status, r.output).toBe(0)
    expect(r.output).toContain('SUCCESS')
  })

  it('the unit tests cover every alert: once firing and once quiet', () => {
    const tests = parse(readFileSync(RULES_TEST_FILE, 'utf8')).tests as {
      alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[]
    }[]
    const cases = tests.flatMap((t) => t.alert_rule_test ?? [])
    for (const alert of alerts()) {
      const mine = cases.filter((c) => c.alertname === alert)
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert} is tested firing`,
      ).toBe(true)
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert} is tested quiet`,
      ).toBe(true)
    }
    expect(alerts()).toEqual(
      expect.arrayContaining([
        'DBPoolRequestsWaiting',
        'CircuitBreakerOpen',
        'QueueDepthGrowing',
        'ErrorBudgetBurnFast',
        'ErrorBudgetBurnSlow',
      ]),
    )
  })

  it('the unit tests fail when a threshold changes', () => {
    const dir = changedRules('threshold', (t) => t.replace('(14.4 * 0.001)', '(144 * 0.001)'))
    const r = promtool(['test', 'rules', 'goreliable.rules.test.yml'], dir)
    expect(r.status).not.toBe(0)
    expect(r.output).toMatch(/FAILED[\s\S]*ErrorBudgetBurnFast/)
  })

  it('the unit tests fail when an alert loses its `for`', () => {
    const dir = changedRules('for', (t) =>
      t.replace(/(alert: DBPoolRequestsWaiting\n[^\n]*\n)\s*for: 2m\n/, '$1'),
    )
    expect(promtool(['test', 'rules', 'goreliable.rules.test.yml'], dir).status).not.toBe(0)
  })

  it('`promtool check rules` fails on a broken expression', () => {
    const dir = changedRules('syntax', (t) =>
      t.replace('max by (job, name) (circuit_breaker_state', 'max by (job, name (circuit_breaker_state'),
    )
    const r = promtool(['check', 'rules', join(dir, 'goreliable.rules.yml')])
    expect(r.status).not.toBe(0)
  })
})

describe('the PrometheusRule for the Prometheus Operator', () => {
  it('carries exactly the groups of the rules file (node examples/deploy-checks/scripts/write-prometheusrule.mjs)', () => {
    const rule = build('monitoring').docs.find((d) => d.obj.kind === 'PrometheusRule')!
    expect(rule.obj.spec.groups).toEqual(rulesFile().groups)
  })
})

describe('prometheus.yml of the compose stack', () => {
  const compose = () => parse(readFileSync(join(COMPOSE_DIR, 'compose.yaml'), 'utf8'), { merge: true })

  /**
   * Lays out the prometheus service's bind mounts as the container sees them, under a scratch root, so
   * promtool resolves rule_files exactly as Prometheus will in the container.
   */
  function containerLayout(): string {
    const root = join(scratch, 'prometheus-container')
    for (const v of compose().services.prometheus.volumes as string[]) {
      const [source, target] = v.split(':')
      if (!source!.startsWith('.')) continue // a named volume
      mkdirSync(dirname(join(root, target!)), { recursive: true })
      copyFileSync(resolve(COMPOSE_DIR, source!), join(root, target!))
    }
    return root
  }

  it.skipIf(!have)('passes `promtool check config`, rule files included, as mounted in the container', () => {
    const root = containerLayout()
    const r = promtool(['check', 'config', join(root, 'etc/prometheus/prometheus.yml')])
    expect(r.status, r.output).toBe(0)
    // The rules are found through the mount: an empty glob would pass silently otherwise.
    expect(r.output).toMatch(
      /Checking .*etc\/prometheus\/rules\/goreliable\.rules\.yml\s+SUCCESS: \d+ rules found/,
    )
  })

  it('scrapes the admin port of each service under job = its name', () => {
    const config = parse(readFileSync(join(COMPOSE_DIR, 'prometheus', 'prometheus.yml'), 'utf8'))
    const jobs = Object.fromEntries(
      config.scrape_configs.map(
        (s: { job_name: string; static_configs: { targets: string[] }[]; metrics_path?: string }) => [
          s.job_name,
          { targets: s.static_configs.flatMap((c) => c.targets), path: s.metrics_path ?? '/metrics' },
        ],
      ),
    )
    for (const name of SERVICE_NAMES) {
      const admin = SERVICES[name].adminPort
      if (admin === undefined) expect(jobs[name]).toBeUndefined()
      else expect(jobs[name]).toEqual({ targets: [`${name}:${admin}`], path: '/metrics' })
    }
  })
})
