// Keeps README.md and the code in step: every error code, option key and metric this package defines must
// be documented, so a new one without its docs fails CI.
import { readFileSync } from 'node:fs'
import { ErrorCodes } from '@goreliable/core'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import {
  createPool,
  createPoolOptionKeys,
  instrumentPoolOptionKeys,
  PgErrorCodes,
  pgHealthCheckOptionKeys,
  streamQueryOptionKeys,
  withTransactionOptionKeys,
} from '../src/index.js'
import { databaseUrl } from './helpers.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const documented = (name: string) => readme.includes(`\`${name}\``)

describe('README.md documents', () => {
  // Core's codes this package raises, and its own.
  const codes = [
    ErrorCodes.POOL_TIMEOUT,
    ErrorCodes.INVALID_OPTION,
    ErrorCodes.CHECK_TIMEOUT,
    ...Object.values(PgErrorCodes),
  ]
  it.each(codes)('error code %s', (code) => {
    expect(documented(code)).toBe(true)
  })

  const optionKeys = {
    createPool: createPoolOptionKeys,
    instrumentPool: instrumentPoolOptionKeys,
    withTransaction: withTransactionOptionKeys,
    streamQuery: streamQueryOptionKeys,
    pgHealthCheck: pgHealthCheckOptionKeys,
  }
  const pairs = Object.entries(optionKeys).flatMap(([factory, keys]) =>
    keys.map((k) => [factory, k] as const),
  )
  it.each(pairs)('option of %s: %s', (_factory, key) => {
    expect(documented(key)).toBe(true)
  })

  it.each([
    'createPool',
    'instrumentPool',
    'withClient',
    'withTransaction',
    'streamQuery',
    'pgHealthCheck',
    'pgCloser',
    'PoolTimeoutError',
    'TransactionRolledBackError',
  ])('export %s', (name) => {
    expect(readme).toContain(name)
  })

  // Metrics are registered without touching the database: nothing here connects.
  it.skipIf(!databaseUrl)('every metric the package defines', async () => {
    const registry = new Registry()
    const pool = createPool({ connectionString: databaseUrl! }, { name: 'docs', registry })
    const ours = (await registry.getMetricsAsJSON()).map((m) => m.name)
    expect(ours.length).toBeGreaterThanOrEqual(8)
    expect(ours.filter((n) => !documented(n))).toEqual([])
    await pool.end()
  })
})
