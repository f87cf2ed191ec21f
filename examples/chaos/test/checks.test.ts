import { describe, expect, it } from 'vitest'
import { check, describeFailures, type RequestSample, withObserved } from '../src/index.js'

const sample = (at: number, status: number, extra: Partial<RequestSample> = {}): RequestSample => ({
  index: at,
  at,
  latencyMs: 1,
  status,
  ...extra,
})

describe('describeFailures', () => {
  it('lists failed requests in time order, with the code of a JSON error body, relative to `since`', () => {
    const samples = [
      sample(3900, 503, { body: '{"code":"GR_ERR_BREAKER_OPEN","message":"open"}' }),
      sample(1000, 201),
      sample(2500, 0, { error: 'TIMEOUT' }),
      sample(500, 502, { body: 'not json' }),
    ]
    expect(describeFailures(samples, 1000)).toBe(
      '502 at -0.5 s, TIMEOUT at +1.5 s, 503 GR_ERR_BREAKER_OPEN at +2.9 s',
    )
    expect(describeFailures(samples, 1000, 1)).toBe('502 at -0.5 s, 2 more')
    expect(describeFailures([sample(1, 201)], 0)).toBe('')
  })

  it('withObserved appends to what a check observed and keeps its verdict', () => {
    expect(withObserved(check('no failed request', false, '1% (1/100)'), ': 503 at +1.0 s')).toEqual({
      name: 'no failed request',
      pass: false,
      observed: '1% (1/100): 503 at +1.0 s',
    })
  })
})
