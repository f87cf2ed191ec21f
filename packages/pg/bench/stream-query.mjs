// Reading a 100,000-row result (generate_series) through streamQuery against hand-written pg-cursor code
// with the same batch size, same database, taking turns. The issue asks streamQuery to keep at least 0.90 of
// the hand-written code's rows per second. Both sides touch every row, as a consumer would.
// Build first: `npx tsc -b tsconfig.json` in packages/pg (and packages/core).
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import Cursor from 'pg-cursor'
import { Registry } from 'prom-client'
import { compare } from '../../../scripts/bench-compare.mjs'
import { createPool, streamQuery } from '../dist/index.js'

const url = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'
const ROWS = 100_000
const BATCH_SIZE = 100
const SQL = 'SELECT i, i * 2 AS double FROM generate_series(1, $1::int) AS i'

const bare = new pg.Pool({ connectionString: url, max: 2 })
const instrumented = createPool(
  { connectionString: url, max: 2 },
  { name: 'bench', registry: new Registry() },
)

/** What a careful engineer writes by hand: read in batches, close the cursor, release the client. */
async function handWritten() {
  const start = performance.now()
  let sum = 0
  const client = await bare.connect()
  try {
    const cursor = client.query(new Cursor(SQL, [ROWS]))
    try {
      for (;;) {
        const rows = await cursor.read(BATCH_SIZE)
        if (rows.length === 0) break
        for (const row of rows) sum += row.i
      }
    } finally {
      await cursor.close()
    }
  } finally {
    client.release()
  }
  check(sum)
  return (ROWS * 1000) / (performance.now() - start)
}

async function streamed() {
  const start = performance.now()
  let sum = 0
  for await (const row of streamQuery(instrumented, SQL, [ROWS], { batchSize: BATCH_SIZE })) sum += row.i
  check(sum)
  return (ROWS * 1000) / (performance.now() - start)
}

function check(sum) {
  if (sum !== (ROWS * (ROWS + 1)) / 2) throw new Error(`read the wrong rows (sum ${sum})`)
}

for (let i = 0; i < 2; i++) {
  await handWritten()
  await streamed()
}
const { pass } = await compare({
  title: 'pg: streamQuery over 100,000 rows vs hand-written pg-cursor, batch size 100 (rows/s ratio)',
  baseline: handWritten,
  candidate: streamed,
  rounds: 21,
  min: 0.9,
  command: 'cd packages/pg && npx tsc -b tsconfig.json && node bench/stream-query.mjs',
})
await Promise.all([bare.end(), instrumented.end()])
if (!pass) process.exitCode = 1
