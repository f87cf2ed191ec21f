// What a call to the order service can end with besides success. Both are thrown through the breaker,
// which decides from them whether the order service is failing.

/** The order service answered, with a status of 400 or more. The gateway relays this answer as it came. */
export class UpstreamResponseError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly body: Buffer,
  ) {
    super(`the order service answered ${status}`)
    this.name = 'UpstreamResponseError'
  }

  /**
   * Only 5xx answers say the order service is failing; a 4xx is the client's mistake (a bad body, an unknown
   * order) and must never open the breaker for everyone else.
   */
  get isServerError(): boolean {
    return this.status >= 500
  }
}

/**
 * The order service did not answer in time. `code` is `ETIMEDOUT`, so @goreliable/fastify answers it as it
 * answers an unreachable upstream: 503 with `Retry-After`.
 */
export class UpstreamTimeoutError extends Error {
  readonly code = 'ETIMEDOUT'
  constructor(readonly timeoutMs: number) {
    super(`the order service did not answer within ${timeoutMs} ms`)
    this.name = 'UpstreamTimeoutError'
  }
}
