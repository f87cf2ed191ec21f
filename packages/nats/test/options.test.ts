import { AckPolicy } from '@nats-io/jetstream'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ConsumerConfigError,
  createQueueDepthCollector,
  createWorker,
  DeadLetterError,
  natsHealthCheck,
  publish,
  type WorkerOptions,
} from '../src/index.js'
import { type Env, env, natsUrl } from './helpers.js'

const invalid = (option: string) => expect.objectContaining({ code: 'GR_ERR_INVALID_OPTION', option })

describe.skipIf(!natsUrl)('options', () => {
  let e: Env
  let base: WorkerOptions
  beforeAll(async () => {
    e = await env(natsUrl!)
    base = { connection: e.nc, stream: 'S', consumer: 'c', handler: () => {}, registry: new Registry() }
  })
  afterAll(async () => {
    await e?.close()
  })

  it.each([
    [{ connection: {} }, 'connection'],
    [{ stream: 'a.b' }, 'stream'],
    [{ stream: '' }, 'stream'],
    [{ consumer: 'with space' }, 'consumer'],
    [{ handler: 'nope' }, 'handler'],
    [{ concurrency: 0 }, 'concurrency'],
    [{ concurrency: 1.5 }, 'concurrency'],
    [{ prefetch: -1 }, 'prefetch'],
    [{ maxDeliver: 0 }, 'maxDeliver'],
    [{ backoffMs: [] }, 'backoffMs'],
    [{ backoffMs: [100, -1] }, 'backoffMs[1]'],
    [{ deadLetterSubject: 'dead.*' }, 'deadLetterSubject'],
    [{ deadLetterSubject: 'dead..letters' }, 'deadLetterSubject'],
    [{ breaker: { opened: false } }, 'breaker'],
    [{ registry: {} }, 'registry'],
    [{ registry: undefined }, 'registry'],
    [{ host: { registry: new Registry() } }, 'host'],
    [{ logger: console.log }, 'logger'],
    [{ decode: JSON }, 'decode'],
    [{ stopTimeoutMs: -5 }, 'stopTimeoutMs'],
    [{ timeout: 5 }, 'timeout'],
  ])('createWorker rejects %o naming %s', (patch, option) => {
    expect(() => createWorker({ ...base, ...(patch as object) } as WorkerOptions)).toThrow(invalid(option))
  })

  it('stop() rejects a bad timeout at the call', () => {
    const w = createWorker(base)
    expect(() => w.stop({ timeoutMs: -1 })).toThrow(invalid('timeoutMs'))
  })

  it.each([
    [{ jsm: {} }, 'jsm'],
    [{ consumer: [] }, 'consumer'],
    [{ consumer: ['a', 'b.c'] }, 'consumer[1]'],
    [{ consumer: ['a', 'a'] }, 'consumer'],
    [{ cacheMs: -1 }, 'cacheMs'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ registry: undefined }, 'registry'],
    [{ interval: 1 }, 'interval'],
  ])('createQueueDepthCollector rejects %o naming %s', (patch, option) => {
    const options = { jsm: e.jsm, stream: 'S', consumer: 'c', registry: new Registry(), ...patch }
    expect(() => createQueueDepthCollector(options as never)).toThrow(invalid(option))
  })

  it('publish and natsHealthCheck reject bad arguments', async () => {
    await expect(publish(e.js, 'a.*', 'x', { msgID: '1' })).rejects.toThrow(invalid('subject'))
    await expect(publish(e.js, 'a.b', 'x', {} as never)).rejects.toThrow(invalid('msgID'))
    await expect(publish(e.js, 'a.b', undefined, { msgID: '1' })).rejects.toThrow(invalid('data'))
    await expect(publish({} as never, 'a.b', 'x', { msgID: '1' })).rejects.toThrow(invalid('js'))
    await expect(publish(e.js, 'a.b', 'x', { msgID: '1', retries: 2 } as never)).rejects.toThrow(
      invalid('retries'),
    )
    expect(() => natsHealthCheck(e.nc, { kind: 'ready' as never })).toThrow(invalid('kind'))
    expect(() => natsHealthCheck({} as never)).toThrow(invalid('connection'))
  })

  describe('start() checks the consumer', () => {
    const start = (patch: Partial<WorkerOptions>) =>
      createWorker({ ...base, registry: new Registry(), ...patch }).start()

    it('that exists', async () => {
      const stream = await e.stream('GR_CHECK')
      const err = await start({ stream, consumer: 'missing' }).catch((x: unknown) => x)
      expect(err).toBeInstanceOf(ConsumerConfigError)
      expect(err).toMatchObject({ code: 'GR_ERR_NATS_CONSUMER_CONFIG', stream, consumer: 'missing' })
    })

    it('acks explicitly', async () => {
      const stream = await e.stream('GR_CHECK')
      await e.consumer(stream, 'none', { ack_policy: AckPolicy.None })
      await expect(start({ stream, consumer: 'none' })).rejects.toMatchObject({
        code: 'GR_ERR_NATS_CONSUMER_CONFIG',
        message: expect.stringContaining('ack_policy'),
      })
    })

    it('does not stop redelivering before the worker can dead-letter', async () => {
      const stream = await e.stream('GR_CHECK')
      await e.consumer(stream, 'three', { max_deliver: 3 })
      await expect(start({ stream, consumer: 'three', maxDeliver: 3 })).rejects.toMatchObject({
        code: 'GR_ERR_NATS_CONSUMER_CONFIG',
        message: expect.stringContaining('max_deliver 3'),
      })
      // Above the worker's maxDeliver it is a backstop, and accepted.
      const w = createWorker({ ...base, registry: new Registry(), stream, consumer: 'three', maxDeliver: 2 })
      await w.start()
      await w.stop()
    })

    it('has a stream for its dead letters, outside its own filter', async () => {
      const stream = await e.stream('GR_CHECK')
      await e.consumer(stream, 'all')
      await e.consumer(stream, 'jobs', { filter_subject: `${stream}.job` })
      const unrouted = await start({ stream, consumer: 'all', deadLetterSubject: 'nowhere.at.all' }).catch(
        (x: unknown) => x,
      )
      expect(unrouted).toBeInstanceOf(DeadLetterError)
      expect(unrouted).toMatchObject({ code: 'GR_ERR_NATS_DEAD_LETTER', subject: 'nowhere.at.all' })
      await expect(
        start({ stream, consumer: 'all', deadLetterSubject: `${stream}.dead` }),
      ).rejects.toMatchObject({
        code: 'GR_ERR_NATS_CONSUMER_CONFIG',
        message: expect.stringContaining('dead letters would come back'),
      })
      const w = createWorker({
        ...base,
        registry: new Registry(),
        stream,
        consumer: 'jobs',
        deadLetterSubject: `${stream}.dead`,
      })
      await w.start()
      await w.stop()
    })

    it('and may be retried after a failed check', async () => {
      const stream = await e.stream('GR_CHECK')
      const w = createWorker({ ...base, registry: new Registry(), stream, consumer: 'late' })
      await expect(w.start()).rejects.toMatchObject({ code: 'GR_ERR_NATS_CONSUMER_CONFIG' })
      await e.consumer(stream, 'late')
      await w.start()
      expect(w.state).toBe('running')
      await w.stop()
    })
  })
})
