// The fake email provider's inspection and control routes, as the experiments use them: switch an outage on
// and off, and read what was delivered and how many attempts each key took.

import type { FaultPatch, MessageList } from '@goreliable/example-email-provider'

/** The provider's routes the experiments call. */
export interface EmailProviderClient {
  /** `PUT /control`: any subset of the fault settings. */
  control(patch: FaultPatch): Promise<void>
  /** `DELETE /control`: a healthy provider again. */
  heal(): Promise<void>
  /** `GET /v1/messages`: every delivery, the attempts per key and the counters. */
  messages(): Promise<MessageList>
}

/** A client of the provider at `baseUrl` (its own port, not the fault proxy in front of it). */
export function emailProviderClient(baseUrl: string): EmailProviderClient {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      signal: AbortSignal.timeout(5000),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`email provider ${method} ${path}: ${res.status} ${text.slice(0, 200)}`)
    return text
  }
  return {
    control: async (patch) => {
      await call('PUT', '/control', patch)
    },
    heal: async () => {
      await call('DELETE', '/control')
    },
    messages: async () => JSON.parse(await call('GET', '/v1/messages')) as MessageList,
  }
}
