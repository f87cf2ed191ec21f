import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../src/errors.js'
import {
  type RuntimeMetricsOptions,
  registerBuildInfo,
  registerRuntimeMetrics,
  registerRuntimeMetricsOptionKeys,
} from '../src/runtime-metrics.js'

const coreVersion = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  .version as string

/** Value of the one sample of `name` (no labels) in the exposition text. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  if (line === undefined) throw new Error(`no sample ${name} in:\n${text}`)
  return Number(line.slice(name.length + 1))
}

function count(text: string, needle: string): number {
  return text.split('\n').filter((l) => l === needle).length
}

function busyFor(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    // spin: the event loop is busy for the whole interval
  }
}

describe('registerRuntimeMetrics', () => {
  it("exposes prom-client's default metrics, event-loop utilization and core's build info", async () => {
    const registry = new Registry()
    registerRuntimeMetrics(registry)
    const text = await registry.metrics()
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_gc_duration_seconds',
      'nodejs_version_info',
      'nodejs_eventloop_utilization_ratio',
      'goreliable_build_info',
    ]) {
      expect(text).toContain(`# TYPE ${name} `)
    }
    expect(text).toContain('# TYPE nodejs_eventloop_utilization_ratio gauge')
    expect(text).toContain(`goreliable_build_info{package="@goreliable/core",version="${coreVersion}"} 1`)
    const elu = sample(text, 'nodejs_eventloop_utilization_ratio')
    expect(elu).toBeGreaterThanOrEqual(0)
    expect(elu).toBeLessThanOrEqual(1)
  })

  it('reports event-loop utilization between scrapes: high after a busy loop, low after an idle one', async () => {
    const registry = new Registry()
    registerRuntimeMetrics(registry)
    await registry.metrics()

    busyFor(300)
    const busy = sample(await registry.metrics(), 'nodejs_eventloop_utilization_ratio')

    await new Promise((resolve) => setTimeout(resolve, 300))
    const idle = sample(await registry.metrics(), 'nodejs_eventloop_utilization_ratio')

    // Generous bounds: the windows also hold the scrapes themselves and whatever the test runner does.
    expect(busy).toBeGreaterThan(0.6)
    expect(idle).toBeLessThan(0.4)
  })

  it('is idempotent: a second call never throws and duplicates nothing', async () => {
    const registry = new Registry()
    registerRuntimeMetrics(registry)
    expect(() => registerRuntimeMetrics(registry)).not.toThrow()
    expect(() => registerRuntimeMetrics(registry, { eventLoopMonitoringPrecisionMs: 20 })).not.toThrow()
    const text = await registry.metrics()
    expect(count(text, '# TYPE process_cpu_user_seconds_total counter')).toBe(1)
    expect(count(text, '# TYPE nodejs_eventloop_utilization_ratio gauge')).toBe(1)
    expect(text.match(/^goreliable_build_info\{/gm)).toHaveLength(1)
  })

  it("accepts a registry where the application already ran prom-client's collectDefaultMetrics", async () => {
    const registry = new Registry()
    collectDefaultMetrics({ register: registry })
    expect(() => registerRuntimeMetrics(registry)).not.toThrow()
    const text = await registry.metrics()
    expect(count(text, '# TYPE process_cpu_user_seconds_total counter')).toBe(1)
    expect(text).toContain('# TYPE nodejs_eventloop_utilization_ratio gauge')
  })

  it('keeps registries apart and never touches the global registry', async () => {
    const { register: globalRegistry } = await import('prom-client')
    const before = await globalRegistry.metrics()
    const a = new Registry()
    const b = new Registry()
    registerRuntimeMetrics(a)
    registerRuntimeMetrics(b)
    expect(await b.metrics()).toContain('# TYPE nodejs_eventloop_utilization_ratio gauge')
    expect(await globalRegistry.metrics()).toBe(before)
  })

  it('does not keep the process alive (runs the built module: the test task builds first)', () => {
    const dist = new URL('../dist/runtime-metrics.js', import.meta.url).href
    const script = `
      import { Registry } from 'prom-client'
      import { registerRuntimeMetrics } from ${JSON.stringify(dist)}
      const registry = new Registry()
      registerRuntimeMetrics(registry)
      await registry.metrics()
      console.log('registered')
    `
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      timeout: 10_000,
    })
    expect(result.stderr).toBe('')
    expect(result.stdout.trim()).toBe('registered')
    expect(result.status).toBe(0)
  })
})

describe('registerBuildInfo', () => {
  it('adds one series per package and version, and survives resetMetrics', async () => {
    const registry = new Registry()
    registerBuildInfo(registry, '@goreliable/fastify', '0.1.0')
    registerBuildInfo(registry, '@goreliable/fastify', '0.1.0')
    registerBuildInfo(registry, '@goreliable/pg', '0.2.0')
    registry.resetMetrics()
    const text = await registry.metrics()
    expect(text.match(/^goreliable_build_info\{.*$/gm)).toEqual([
      'goreliable_build_info{package="@goreliable/fastify",version="0.1.0"} 1',
      'goreliable_build_info{package="@goreliable/pg",version="0.2.0"} 1',
    ])
  })

  it('shows two versions of one package (a duplicate install) as two series', async () => {
    const registry = new Registry()
    registerBuildInfo(registry, '@goreliable/core', '0.1.0')
    registerBuildInfo(registry, '@goreliable/core', '0.2.0')
    const text = await registry.metrics()
    expect(text).toContain('goreliable_build_info{package="@goreliable/core",version="0.1.0"} 1')
    expect(text).toContain('goreliable_build_info{package="@goreliable/core",version="0.2.0"} 1')
  })

  it.each([
    ['registry', () => registerBuildInfo({} as Registry, 'p', '1')],
    ['packageName', () => registerBuildInfo(new Registry(), '', '1')],
    ['version', () => registerBuildInfo(new Registry(), 'p', undefined as unknown as string)],
  ])('rejects a bad %s', (option, call) => {
    expect(call).toThrow(InvalidOptionError)
    expect(call).toThrow(`"${option}"`)
  })
})

describe('registerRuntimeMetrics options', () => {
  it('exports its option keys', () => {
    expect([...registerRuntimeMetricsOptionKeys]).toEqual(['eventLoopMonitoringPrecisionMs'])
  })

  it.each([
    ['registry', () => registerRuntimeMetrics(undefined as unknown as Registry)],
    ['registry', () => registerRuntimeMetrics({ registerMetric() {} } as unknown as Registry)],
    [
      'eventLoopMonitoringPrecisionMs',
      () => registerRuntimeMetrics(new Registry(), { eventLoopMonitoringPrecisionMs: 0 }),
    ],
    [
      'eventLoopMonitoringPrecisionMs',
      () => registerRuntimeMetrics(new Registry(), { eventLoopMonitoringPrecisionMs: 2.5 }),
    ],
    [
      'precisionMs',
      () => registerRuntimeMetrics(new Registry(), { precisionMs: 5 } as unknown as RuntimeMetricsOptions),
    ],
  ])('rejects a bad %s with a coded TypeError naming it', (option, call) => {
    let caught: unknown
    try {
      call()
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(InvalidOptionError)
    expect(caught).toMatchObject({ code: 'GR_ERR_INVALID_OPTION', option })
  })
})
