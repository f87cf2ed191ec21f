// The words and numbers of the capacity report's step lines.

import { describe, expect, it } from 'vitest'
import { formatReading } from '../src/capacity-format.js'
import type { SignalReading } from '../src/saturation.js'

const reading = (signal: SignalReading['signal'], value: number): SignalReading => ({
  signal,
  metric: 'm',
  crossed: false,
  value,
  firstAt: undefined,
  evidence: '',
})

describe('formatReading', () => {
  it('signs a queue depth change once: growing +16, draining -16, flat 0', () => {
    expect(formatReading(reading('queue_depth', 16))).toBe('+16')
    expect(formatReading(reading('queue_depth', -16))).toBe('-16')
    expect(formatReading(reading('queue_depth', 0))).toBe('0')
  })

  it('gives each other signal in its unit', () => {
    expect(formatReading(reading('pool', 0.063))).toBe('waiting in 6.3% of scrapes')
    expect(formatReading(reading('cpu', 0.481))).toBe('0.48 cores')
    expect(formatReading(reading('event_loop_utilization', 0.974))).toBe('0.97')
    expect(formatReading(reading('event_loop_lag', 0.15))).toBe('150 ms')
  })
})
