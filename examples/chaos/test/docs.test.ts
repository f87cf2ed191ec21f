// Keeps README.md and the code in step: every error code, option key, fault mode, saturation signal and
// metric this package reads must be documented, so a new one without its docs fails CI.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CHAOS_EXPERIMENT_NAMES, chaosExperiments } from '../src/experiments/chaos-suite.js'
import type { Suite } from '../src/experiments/suite.js'
import {
  ChaosErrorCodes,
  createFaultProxyOptionKeys,
  FAULT_MODES,
  faultOptionKeys,
  orderRequestsOptionKeys,
  profileSettingsKeys,
  runCapacityCliOptionKeys,
  runCapacityOptionKeys,
  runChaosCliOptionKeys,
  runExperimentsOptionKeys,
  SATURATION_SIGNALS,
  SIGNAL_METRICS,
  saturationThresholdKeys,
  startLoadOptionKeys,
  startMetricsScraperOptionKeys,
  summarizeOptionKeys,
  timeToRecoverOptionKeys,
} from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const documented = (name: string) => readme.includes(`\`${name}\``)

describe('README.md documents', () => {
  it.each(Object.values(ChaosErrorCodes))('error code %s', (code) => {
    expect(documented(code)).toBe(true)
  })

  const optionKeys = {
    createFaultProxy: createFaultProxyOptionKeys,
    fault: faultOptionKeys,
    startLoad: startLoadOptionKeys,
    orderRequests: orderRequestsOptionKeys,
    summarize: summarizeOptionKeys,
    timeToRecover: timeToRecoverOptionKeys,
    runExperiments: runExperimentsOptionKeys,
    profile: profileSettingsKeys,
    runChaosCli: runChaosCliOptionKeys,
    runCapacity: runCapacityOptionKeys,
    'runCapacity saturation': saturationThresholdKeys,
    runCapacityCli: runCapacityCliOptionKeys,
    startMetricsScraper: startMetricsScraperOptionKeys,
  }
  const pairs = Object.entries(optionKeys).flatMap(([factory, keys]) =>
    keys.map((k) => [factory, k] as const),
  )
  it.each(pairs)('option of %s: %s', (_factory, key) => {
    expect(documented(key)).toBe(true)
  })

  it.each([...FAULT_MODES])('fault mode %s', (mode) => {
    expect(documented(mode)).toBe(true)
  })

  it.each([...SATURATION_SIGNALS])('saturation signal %s and its metric', (signal) => {
    expect(documented(signal)).toBe(true)
    expect(documented(SIGNAL_METRICS[signal])).toBe(true)
  })

  it('the command-line flags', () => {
    for (const flag of [
      '--profile',
      '--out',
      '--only',
      '--start-rate',
      '--max-rate',
      '--growth',
      '--step-seconds',
      '--max-steps',
      '--pool-max',
      '--cpu-heavy',
      '--cpu-ms',
    ]) {
      expect(readme).toContain(flag)
    }
  })

  // The experiments only read their services' URLs when they are built; nothing starts here.
  const service = { url: 'http://127.0.0.1:1', name: 'stand-in' }
  const suite = {
    stack: { worker: service, token: () => 'token' },
    profile: 'short',
    gatewaySingle: service,
    gatewayPair: service,
    orderServiceA: service,
    orderServiceB: service,
  } as unknown as Suite
  it.each(chaosExperiments(suite).map((e) => e.name))('chaos experiment %s', (name) => {
    expect(documented(name)).toBe(true)
  })

  it('lists every experiment in CHAOS_EXPERIMENT_NAMES, in order', () => {
    expect(chaosExperiments(suite).map((e) => e.name)).toEqual([...CHAOS_EXPERIMENT_NAMES])
  })
})
