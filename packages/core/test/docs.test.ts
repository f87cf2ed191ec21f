// Keeps README.md and the code in step: every error code, every option key and every metric this package
// defines must be documented, so a new one without its docs fails CI.
import { readFileSync } from 'node:fs'
import genericPool from 'generic-pool'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createBreaker, createBreakerOptionKeys } from '../src/breaker.js'
import { ErrorCodes } from '../src/errors.js'
import { createFastHistogramOptionKeys } from '../src/fast-histogram.js'
import { addCheckOptionKeys, createHealth, createHealthOptionKeys } from '../src/health.js'
import { instrumentPool, instrumentPoolOptionKeys } from '../src/instrument-pool.js'
import { createLoggerOptionKeys } from '../src/logger.js'
import { createPoolMetricsOptionKeys } from '../src/pool-metrics.js'
import { createProfilerOptionKeys, createProfilerPyroscopeOptionKeys } from '../src/profiler.js'
import { createQueueDepthGauge, createQueueDepthGaugeOptionKeys } from '../src/queue-depth-gauge.js'
import { registerRuntimeMetrics, registerRuntimeMetricsOptionKeys } from '../src/runtime-metrics.js'
import { createShutdownOptionKeys } from '../src/shutdown.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const documented = (name: string) => readme.includes(`\`${name}\``)

describe('README.md documents', () => {
  it.each(Object.values(ErrorCodes))('error code %s', (code) => {
    expect(documented(code)).toBe(true)
  })

  const optionKeys = {
    createBreaker: createBreakerOptionKeys,
    createFastHistogram: createFastHistogramOptionKeys,
    createHealth: createHealthOptionKeys,
    addCheck: addCheckOptionKeys,
    instrumentPool: instrumentPoolOptionKeys,
    createLogger: createLoggerOptionKeys,
    createPoolMetrics: createPoolMetricsOptionKeys,
    createProfiler: createProfilerOptionKeys,
    'createProfiler pyroscope': createProfilerPyroscopeOptionKeys,
    createQueueDepthGauge: createQueueDepthGaugeOptionKeys,
    registerRuntimeMetrics: registerRuntimeMetricsOptionKeys,
    createShutdown: createShutdownOptionKeys,
  }
  const pairs = Object.entries(optionKeys).flatMap(([factory, keys]) =>
    keys.map((k) => [factory, k] as const),
  )
  it.each(pairs)('option of %s: %s', (_factory, key) => {
    expect(documented(key)).toBe(true)
  })

  it('every metric the package defines', async () => {
    const registry = new Registry()
    registerRuntimeMetrics(registry)
    const breaker = createBreaker(async () => 1, { name: 'b', registry })
    await breaker.fire()
    const pool = instrumentPool(
      genericPool.createPool({ create: async () => ({}), destroy: async () => {} }, { max: 1 }),
      { name: 'p', registry },
    )
    await pool.release(await pool.acquire())
    createHealth({ registry }).addCheck({ name: 'c', kind: 'readiness', check: () => true })
    const gauge = createQueueDepthGauge({
      name: 'queue_depth_messages',
      help: 'h',
      collect: () => 1,
      registry,
    })

    // prom-client's own default metrics are documented by prom-client; list only what this package adds.
    const defaults = new Registry()
    collectDefaultMetrics({ register: defaults })
    const theirs = new Set((await defaults.getMetricsAsJSON()).map((m) => m.name))
    const ours = (await registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => !theirs.has(n))

    expect(ours.length).toBeGreaterThan(10)
    const missing = ours
      .map((n) => n.replace(/^queue_depth_messages/, '<name>'))
      .filter((n) => !documented(n))
    expect(missing).toEqual([])
    breaker.shutdown()
    gauge.close()
    await pool.drain()
    await pool.clear()
  })
})
