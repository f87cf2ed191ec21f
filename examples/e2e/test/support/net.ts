// Small things every part of the e2e suite needs: free ports, metric samples, stream contents.

import { createServer } from 'node:net'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A message stored in a stream: its `Nats-Msg-Id`, subject and JSON payload. */
export interface StoredEvent {
  msgId: string | undefined
  subject: string
  data: Record<string, unknown>
}

/** Every message of `stream`, in order; none when the stream or the server is not there. */
export async function streamEvents(url: string, stream: string): Promise<StoredEvent[]> {
  const nc = await connect({ servers: url.replace(/^nats:\/\//, ''), reconnect: false, timeout: 1000 }).catch(
    () => undefined,
  )
  if (nc === undefined) return []
  try {
    const jsm = await jetstreamManager(nc)
    const info = await jsm.streams.info(stream).catch(() => undefined)
    if (info === undefined || info.state.messages === 0) return []
    const events: StoredEvent[] = []
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null)
      if (m === null) continue
      events.push({ msgId: m.header.get('Nats-Msg-Id') || undefined, subject: m.subject, data: m.json() })
    }
    return events
  } finally {
    await nc.close()
  }
}

/** The value of the one sample of `name` whose labels include `labels`, from Prometheus text. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3])
  }
  return undefined
}
