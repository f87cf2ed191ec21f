// The README is the gateway's documentation: every variable it reads, option it takes, error code it
// answers and metric it adds must be there, in backticks.

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  createGatewayConfigKeys,
  GatewayErrorCodes,
  gatewayBreakerConfigKeys,
  gatewayEnvVariables,
} from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

describe('README', () => {
  it.each([
    ['environment variable', gatewayEnvVariables],
    ['option', createGatewayConfigKeys],
    ['breaker option', gatewayBreakerConfigKeys],
    ['error code', Object.values(GatewayErrorCodes)],
    ['metric', ['gateway_upstream_retries_total']],
  ])('documents every %s', (_kind, names) => {
    expect(names.filter((name) => !readme.includes(`\`${name}\``))).toEqual([])
  })
})
