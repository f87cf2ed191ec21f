import { GoreliableError } from '@goreliable/core'

/** Every error code @goreliable/nats raises. Each is documented in README.md (a test checks it). */
export const NatsErrorCodes = {
  /** The worker's consumer is missing or configured in a way the worker cannot honour. */
  CONSUMER_CONFIG: 'GR_ERR_NATS_CONSUMER_CONFIG',
  /** No stream stores the dead-letter subject, or publishing a dead letter failed. */
  DEAD_LETTER: 'GR_ERR_NATS_DEAD_LETTER',
  /** A message's payload could not be decoded; the message went to the dead-letter subject. */
  DECODE: 'GR_ERR_NATS_DECODE',
  /** A JetStream publish got no positive acknowledgement from the server. */
  PUBLISH: 'GR_ERR_NATS_PUBLISH',
  /** `start()` was called on a worker that was stopped. */
  WORKER_STOPPED: 'GR_ERR_NATS_WORKER_STOPPED',
  /** The connection is closed, draining or reconnecting: not ready. */
  DISCONNECTED: 'GR_ERR_NATS_DISCONNECTED',
} as const

export type NatsErrorCode = (typeof NatsErrorCodes)[keyof typeof NatsErrorCodes]

/** Raised by `start()` when the consumer does not exist or its configuration defeats the worker. */
export class ConsumerConfigError extends GoreliableError {
  readonly stream: string
  readonly consumer: string

  constructor(stream: string, consumer: string, problem: string, cause?: unknown) {
    super(NatsErrorCodes.CONSUMER_CONFIG, `Consumer "${consumer}" of stream "${stream}": ${problem}`, {
      cause,
    })
    this.name = 'ConsumerConfigError'
    this.stream = stream
    this.consumer = consumer
  }
}

/** Raised by `start()` when no stream stores `deadLetterSubject`; logged when a dead-letter publish fails. */
export class DeadLetterError extends GoreliableError {
  readonly subject: string

  constructor(subject: string, problem: string, cause?: unknown) {
    super(NatsErrorCodes.DEAD_LETTER, `Dead-letter subject "${subject}": ${problem}`, { cause })
    this.name = 'DeadLetterError'
    this.subject = subject
  }
}

/** What `decode` threw, wrapped; its message goes into the dead letter's `Gr-Last-Error` header. */
export class DecodeError extends GoreliableError {
  constructor(cause: unknown) {
    super(NatsErrorCodes.DECODE, `Payload could not be decoded: ${messageOf(cause)}`, { cause })
    this.name = 'DecodeError'
  }
}

/** Raised by `publish()` when the server did not store the message (timeout, no stream, failed expectation). */
export class PublishError extends GoreliableError {
  readonly subject: string

  constructor(subject: string, cause: unknown) {
    super(NatsErrorCodes.PUBLISH, `Publish to "${subject}" was not acknowledged: ${messageOf(cause)}`, {
      cause,
      statusCode: 503,
    })
    this.name = 'PublishError'
    this.subject = subject
  }
}

/** Raised by `start()` after `stop()`: a stopped worker has handed its messages back and cannot restart. */
export class WorkerStoppedError extends GoreliableError {
  constructor() {
    super(NatsErrorCodes.WORKER_STOPPED, 'The worker was stopped; create a new one')
    this.name = 'WorkerStoppedError'
  }
}

/** Thrown by `natsHealthCheck`'s check, so the readiness report names the state. */
export class DisconnectedError extends GoreliableError {
  constructor(state: string, cause?: unknown) {
    super(NatsErrorCodes.DISCONNECTED, `NATS connection is ${state}`, { statusCode: 503, cause })
    this.name = 'DisconnectedError'
  }
}

/** The first line of an error's message, for logs and headers (never a stack). */
export function messageOf(err: unknown): string {
  const text =
    err instanceof Error ? err.message : typeof err === 'string' ? err : err === undefined ? '' : String(err)
  const line = text.split(/\r?\n/, 1)[0] ?? ''
  return line.length > 0 ? line : err instanceof Error ? err.name : 'unknown error'
}
