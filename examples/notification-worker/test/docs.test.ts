// Keeps README.md and the code in step: every option, environment variable, error code, route and metric.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  createNotificationWorkerOptionKeys,
  envVariables,
  NotificationErrorCodes,
  notificationBreakerOptionKeys,
} from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const documented = (name: string) => readme.includes(`\`${name}\``)

/** What the admin server exports for this worker (checked against a live scrape in delivery.test.ts). */
const metrics = [
  'queue_depth_messages',
  'jetstream_consumer_num_pending',
  'jetstream_consumer_num_ack_pending',
  'jetstream_consumer_num_redelivered',
  'nats_messages_total',
  'nats_message_processing_seconds',
  'nats_worker_in_flight',
  'circuit_breaker_state',
  'circuit_breaker_events_total',
  'circuit_breaker_call_duration_seconds',
  'health_check_status',
]

describe('README.md documents', () => {
  it.each([...createNotificationWorkerOptionKeys])('option %s', (key) => {
    expect(documented(key)).toBe(true)
  })
  it.each([...notificationBreakerOptionKeys])('breaker option %s', (key) => {
    expect(documented(key)).toBe(true)
  })
  it.each([...envVariables])('variable %s', (name) => {
    expect(documented(name)).toBe(true)
  })
  it.each(Object.values(NotificationErrorCodes))('error code %s', (code) => {
    expect(documented(code)).toBe(true)
  })
  it.each(['GET /metrics', 'GET /livez', 'GET /readyz', 'GET /startupz'])('route %s', (route) => {
    expect(documented(route)).toBe(true)
  })
  it.each(metrics)('metric %s', (name) => {
    expect(documented(name)).toBe(true)
  })
})
