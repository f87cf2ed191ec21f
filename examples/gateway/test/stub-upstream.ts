// A stand-in for the order service, on a real socket: it records what it receives and answers what the
// test tells it to, including answers no HTTP server gives on purpose (a reset connection, silence).

import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the stub received. */
export interface Received {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

/** How the stub answers the next requests. */
export type Behaviour =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { reset: true }
  | { delayMs: number; status: number }

export interface StubUpstream {
  url: string
  /** Readiness URL, answering `ready` (200 or 503). */
  readyUrl: string
  received: Received[]
  behave(b: Behaviour): void
  setReady(status: number): void
  close(): Promise<void>
}

export async function startStubUpstream(initial: Behaviour = { status: 201 }): Promise<StubUpstream> {
  let behaviour: Behaviour = initial
  let ready = 200
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => {
      if (req.url === '/readyz') {
        res.writeHead(ready, { 'content-type': 'application/json' }).end('{}')
        return
      }
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      const b = behaviour
      if ('reset' in b) {
        req.socket.destroy()
        return
      }
      const answer = () => {
        const payload = 'body' in b && b.body !== undefined ? b.body : { echo: body, id: 'order-1' }
        res
          .writeHead(b.status, {
            'content-type': 'application/json; charset=utf-8',
            ...('headers' in b ? b.headers : {}),
          })
          .end(JSON.stringify(payload))
      }
      if ('delayMs' in b) setTimeout(answer, b.delayMs).unref()
      else answer()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    readyUrl: `http://127.0.0.1:${port}/readyz`,
    received,
    behave(b) {
      behaviour = b
    },
    setReady(status) {
      ready = status
    },
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** A URL on a port nothing listens on. */
export async function closedUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}`
}
