// The public surface, checked by the compiler (`npm run typecheck`) and run as plain tests.
import type { Breaker } from '@goreliable/core'
import type { NatsConnection } from '@nats-io/transport-node'
import { Registry } from 'prom-client'
import { describe, expectTypeOf, it } from 'vitest'
import {
  createWorker,
  type Worker,
  type WorkerBreaker,
  type WorkerMessage,
  type WorkerOptions,
  type WorkerStopResult,
} from '../src/index.js'

const nc = {} as NatsConnection

describe('types', () => {
  it('infers the payload type from decode or the handler', () => {
    const options: WorkerOptions<{ id: number }> = {
      connection: nc,
      stream: 'S',
      consumer: 'c',
      registry: new Registry(),
      handler: (job, message) => {
        expectTypeOf(job).toEqualTypeOf<{ id: number }>()
        expectTypeOf(message).toEqualTypeOf<WorkerMessage>()
        expectTypeOf(message.signal).toEqualTypeOf<AbortSignal>()
      },
    }
    expectTypeOf(options.decode).toEqualTypeOf<
      ((data: Uint8Array, message: WorkerMessage) => { id: number }) | undefined
    >()
    expectTypeOf(createWorker).returns.toEqualTypeOf<Worker>()
    expectTypeOf<Worker['stop']>().returns.resolves.toEqualTypeOf<WorkerStopResult>()
  })

  it('accepts a core breaker', () => {
    expectTypeOf<Breaker>().toExtend<WorkerBreaker>()
  })

  it('rejects wrong options at compile time', () => {
    const base = { connection: nc, stream: 'S', consumer: 'c', registry: new Registry(), handler() {} }
    // @ts-expect-error: units are in the names
    const a: WorkerOptions = { ...base, stopTimeout: 5 }
    // @ts-expect-error: a number of handlers, not a string
    const b: WorkerOptions = { ...base, concurrency: '4' }
    // @ts-expect-error: a list of delays
    const c: WorkerOptions = { ...base, backoffMs: 1000 }
    // @ts-expect-error: the handler is required
    const d: WorkerOptions = { connection: nc, stream: 'S', consumer: 'c' }
    void [a, b, c, d]
  })
})
