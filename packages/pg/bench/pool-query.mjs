// Simple-query throughput (`SELECT 1`) at 10 concurrent callers: a pool made by createPool (metrics, leak
// detection on at its default, operation durations) against a bare pg.Pool of the same size, same database,
// taking turns. The issue asks the instrumented pool to keep at least 0.95 of the bare pool's throughput.
// Two informational comparisons run the same load through withClient() against hand-written
// connect/query/release, with leak detection at its default (the acquiring stack is captured on every
// pool.connect()) and turned off.
// Build first: `npx tsc -b tsconfig.json` in packages/pg (and packages/core).
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { Registry } from 'prom-client'
import { compare } from '../../../scripts/bench-compare.mjs'
import { createPool, withClient } from '../dist/index.js'

const url = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'
const CALLERS = 10
// Short rounds, many of them: this machine's speed drifts within seconds, and a ratio only holds within a pair.
const ROUND_MS = 300

const registry = new Registry()
const bare = new pg.Pool({ connectionString: url, max: CALLERS })
const instrumented = createPool({ connectionString: url, max: CALLERS }, { name: 'bench', registry })
const noStacks = createPool(
  { connectionString: url, max: CALLERS },
  { name: 'bench_no_leak_detection', registry, leakDetectionMs: 0 },
)

/** Queries per second with CALLERS loops each running `op` back to back for ROUND_MS. */
async function throughput(op) {
  let n = 0
  const deadline = performance.now() + ROUND_MS
  const start = performance.now()
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (performance.now() < deadline) {
        await op()
        n++
      }
    }),
  )
  return (n * 1000) / (performance.now() - start)
}

const bareQuery = () => bare.query('SELECT 1')
const instrumentedQuery = () => instrumented.query('SELECT 1')
const bareClient = async () => {
  const client = await bare.connect()
  try {
    await client.query('SELECT 1')
  } finally {
    client.release()
  }
}
const instrumentedClient = () => withClient(instrumented, (client) => client.query('SELECT 1'))
const noStacksClient = () => withClient(noStacks, (client) => client.query('SELECT 1'))

// Open every connection and let the JIT see both sides before a round counts.
for (const op of [bareQuery, instrumentedQuery, bareClient, instrumentedClient, noStacksClient])
  await throughput(op)

// The noise floor: the bare pool against itself. Two 300 ms runs of the same pool differ by up to 15% on
// this machine, so the ratio the issue asks for needs many pairs of rounds to be read to within a percent.
await compare({
  title: 'pg (calibration): bare pg.Pool vs itself, 10 concurrent callers',
  baseline: () => throughput(bareQuery),
  candidate: () => throughput(bareQuery),
  rounds: 30,
  command: 'cd packages/pg && npx tsc -b tsconfig.json && node bench/pool-query.mjs',
})
const query = await compare({
  title: 'pg: createPool().query("SELECT 1") vs bare pg.Pool, 10 concurrent callers (throughput ratio)',
  baseline: () => throughput(bareQuery),
  candidate: () => throughput(instrumentedQuery),
  rounds: 60,
  min: 0.95,
  command: 'cd packages/pg && npx tsc -b tsconfig.json && node bench/pool-query.mjs',
})
// Informational: where pool.connect() is called, leak detection captures the acquiring stack.
await compare({
  title:
    'pg (informational): withClient(createPool defaults) vs connect/query/release on a bare pool, 10 callers',
  baseline: () => throughput(bareClient),
  candidate: () => throughput(instrumentedClient),
  rounds: 11,
  command: 'cd packages/pg && npx tsc -b tsconfig.json && node bench/pool-query.mjs',
})
await compare({
  title: 'pg (informational): the same with leakDetectionMs: 0 (no stack capture)',
  baseline: () => throughput(bareClient),
  candidate: () => throughput(noStacksClient),
  rounds: 11,
  command: 'cd packages/pg && npx tsc -b tsconfig.json && node bench/pool-query.mjs',
})

// The candidate must have recorded what it claims to measure.
const text = await registry.metrics()
if (!/db_client_operation_duration_seconds_count\{pool_name="bench",operation="unnamed"\} [1-9]/.test(text)) {
  console.error('pool-query bench: no operation durations were recorded')
  process.exitCode = 1
}
await Promise.all([bare.end(), instrumented.end(), noStacks.end()])
if (!query.pass) process.exitCode = 1
