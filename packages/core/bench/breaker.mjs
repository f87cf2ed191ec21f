// A call through createBreaker against a bare opossum fire() of the same action with the same options.
// The issue allows createBreaker at most 1.25x the cost of opossum, i.e. a throughput ratio of at least 0.8.
// Build first: `npx tsc -b tsconfig.json` in packages/core.
import CircuitBreaker from 'opossum'
import { Registry } from 'prom-client'
import { compare, opsPerSecond } from '../../../scripts/bench-compare.mjs'
import { createBreaker } from '../dist/breaker.js'

const action = async () => 1

// What createBreaker hands opossum with its defaults (timeoutMs 10000, resetTimeoutMs 30000, ...), including
// an errorFilter, so both sides run the same opossum code and the ratio is the instrumentation alone.
const opossumOptions = () => ({
  name: 'bench',
  timeout: 10_000,
  resetTimeout: 30_000,
  errorThresholdPercentage: 50,
  volumeThreshold: 0,
  rollingCountTimeout: 10_000,
  rollingCountBuckets: 10,
  allowWarmUp: false,
  errorFilter: () => false,
})

const registry = new Registry()
const bare = new CircuitBreaker(action, opossumOptions())
const instrumented = createBreaker(action, { name: 'bench', registry })

const { pass } = await compare({
  title: 'breaker: createBreaker().fire() vs bare opossum fire() (throughput ratio)',
  baseline: () => opsPerSecond(() => bare.fire()),
  candidate: () => opsPerSecond(() => instrumented.fire()),
  rounds: 15,
  min: 0.8,
  command: 'cd packages/core && npx tsc -b tsconfig.json && node bench/breaker.mjs',
})

// The recorded numbers must reach the scrape, or the candidate measured nothing.
const text = await registry.metrics()
if (!/circuit_breaker_call_duration_seconds_count\{name="bench",outcome="success"\} [1-9]/.test(text)) {
  console.error('breaker bench: no durations were recorded')
  process.exitCode = 1
}
bare.shutdown()
instrumented.shutdown()
if (!pass) process.exitCode = 1
