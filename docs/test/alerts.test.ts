// public/alerts.yaml is a rules file users copy into Prometheus: it must load.
import { execFileSync, spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { alertSources } from '../lib/render.js'

const hasPromtool = spawnSync('promtool', ['--version']).status === 0
if (!hasPromtool) {
  if (process.env.CI) throw new Error('promtool is missing: apt-get install -y prometheus')
  console.warn('docs alerts test skipped: promtool not found (apt-get install -y prometheus)')
}
const siteRules = alertSources.find((s) => s.file.endsWith('alerts.yaml'))!.file

describe.skipIf(!hasPromtool)('alerts.yaml', () => {
  it('passes promtool check rules', () => {
    const out = execFileSync('promtool', ['check', 'rules', siteRules], { encoding: 'utf8' })
    expect(out).toContain('SUCCESS')
  })
})
