// The README is the service's documentation: every variable it reads, option it takes, error code it
// answers and metric it adds must be there, in backticks.

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  createOrderServiceConfigKeys,
  OrderServiceErrorCodes,
  orderServiceEnvVariables,
} from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

describe('README', () => {
  it.each([
    ['environment variable', orderServiceEnvVariables],
    ['option', createOrderServiceConfigKeys],
    ['error code', Object.values(OrderServiceErrorCodes)],
    ['metric', ['outbox_pending_messages', 'nats_publish_total', 'nats_publish_duration_seconds']],
  ])('documents every %s', (_kind, names) => {
    expect(names.filter((name) => !readme.includes(`\`${name}\``))).toEqual([])
  })
})
