// Small TCP probes: is a port open, is a port free to bind, and what does a NATS server say about itself.

import { connect, createServer } from 'node:net'

/** Resolves true when something accepts a TCP connection at host:port within the timeout. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** The fields of a NATS server's INFO line that the demo reads. */
export interface NatsInfo {
  version?: string
  jetstream?: boolean
  server_id?: string
}

/**
 * Reads the INFO line a NATS server sends first on every connection: it proves a NATS server (not just any
 * open port) answers, and says whether JetStream is on, without a client library.
 */
export function readNatsInfo(host: string, port: number, timeoutMs = 2000): Promise<NatsInfo | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    let buffer = ''
    const done = (info: NatsInfo | null) => {
      socket.destroy()
      resolve(info)
    }
    socket.setTimeout(timeoutMs, () => done(null))
    socket.once('error', () => done(null))
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8')
      const end = buffer.indexOf('\r\n')
      if (end === -1) {
        if (buffer.length > 64 * 1024) done(null)
        return
      }
      const line = buffer.slice(0, end)
      if (!line.startsWith('INFO ')) return done(null)
      try {
        done(JSON.parse(line.slice(5)) as NatsInfo)
      } catch {
        done(null)
      }
    })
  })
}

/** Resolves true when host:port can be bound right now. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/** A port the system reports free on host; another process may still take it before it is used. */
export function ephemeralPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen({ port: 0, host, exclusive: true }, () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
