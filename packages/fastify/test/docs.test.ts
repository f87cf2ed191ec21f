// Keeps README.md and the code in step: every error code, option key and metric this package defines must
// be documented in backticks, so a new one without its docs fails CI.
import { readFileSync } from 'node:fs'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { FastifyErrorCodes } from '../src/errors.js'
import {
  adminOptionKeys,
  goreliableOptionKeys,
  profilingOptionKeys,
  requestLoggingOptionKeys,
  routeConfigKeys,
  sheddingOptionKeys,
  shutdownOptionKeys,
} from '../src/options.js'
import { buildApp } from './helpers.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const documented = (name: string) => readme.includes(`\`${name}\``)

describe('README.md documents', () => {
  it.each(Object.values(FastifyErrorCodes))('error code %s', (code) => {
    expect(documented(code)).toBe(true)
  })

  it.each(['GR_ERR_INVALID_OPTION', 'GR_ERR_PROFILER_BUSY', 'GR_ERR_BREAKER_OPEN', 'GR_ERR_POOL_TIMEOUT'])(
    "core's code %s, which clients of this package receive",
    (code) => {
      expect(documented(code)).toBe(true)
    },
  )

  const optionKeys = {
    plugin: goreliableOptionKeys,
    admin: adminOptionKeys,
    shedding: sheddingOptionKeys,
    shutdown: shutdownOptionKeys,
    profiling: profilingOptionKeys,
    requestLogging: requestLoggingOptionKeys,
    'config.goreliable': routeConfigKeys,
  }
  const pairs = Object.entries(optionKeys).flatMap(([where, keys]) => keys.map((k) => [where, k] as const))
  it.each(pairs)('option of %s: %s', (_where, key) => {
    expect(documented(key)).toBe(true)
  })

  it.each([
    '/metrics',
    '/debug/pprof/profile?seconds=N',
    '/debug/pprof/heap',
    '/livez',
    '/readyz',
    '/startupz',
  ])('admin route %s', (route) => {
    expect(readme).toContain(`\`GET ${route}\``)
  })

  it('every metric the plugin registers', async () => {
    const app = await buildApp({ shedding: { maxEventLoopDelayMs: 1000 } })
    app.get('/x', async () => 'x')
    await app.ready()
    await app.inject('/x')
    await app.goreliable.breaker('b', async () => 1).fire()
    app.goreliable.health.addCheck({ name: 'c', kind: 'readiness', check: () => true })
    await app.goreliable.health.report('readiness')

    // prom-client's own default metrics are documented by prom-client; list only what @goreliable adds.
    const defaults = new Registry()
    collectDefaultMetrics({ register: defaults })
    const theirs = new Set((await defaults.getMetricsAsJSON()).map((m) => m.name))
    const ours = (await app.goreliable.registry.getMetricsAsJSON())
      .map((m) => m.name)
      .filter((n) => !theirs.has(n))
    await app.close()

    expect(ours).toEqual(
      expect.arrayContaining([
        'http_request_duration_seconds',
        'http_requests_in_flight',
        'http_requests_shed_total',
      ]),
    )
    expect(ours.filter((n) => !documented(n))).toEqual([])
  })
})
