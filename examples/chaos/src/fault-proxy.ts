import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { validate } from '@goreliable/core'
import { ChaosError, ChaosErrorCodes } from './errors.js'
import { type Fault, normalizeFault } from './fault.js'
import { ProxyConnection, resetSocket } from './proxy-connection.js'

/** Options of {@link createFaultProxy}. */
export interface FaultProxyOptions {
  /** Host the proxy forwards to. Loopback only in this project's tests and experiments. */
  targetHost: string
  /** Port the proxy forwards to. */
  targetPort: number
  /** Address the proxy listens on. @default '127.0.0.1' */
  listenHost?: string
  /** Port the proxy listens on; 0 picks a free one (read it from `proxy.port`). @default 0 */
  listenPort?: number
  /** The fault in force from the start. @default { mode: 'none' } */
  fault?: Fault
  /** Time allowed to connect to the target before the client's connection is reset. @default 5000 */
  connectTimeoutMs?: number
}

/** Every option key of {@link createFaultProxy}. */
export const createFaultProxyOptionKeys = [
  'targetHost',
  'targetPort',
  'listenHost',
  'listenPort',
  'fault',
  'connectTimeoutMs',
] as const

/** Counters of a fault proxy since it started. */
export interface FaultProxyStats {
  /** Connections accepted from clients, whatever happened to them. */
  accepted: number
  /** Connections open now (forwarding, held by a black hole, or connecting). */
  active: number
  /** Connections the proxy closed with an RST (`reset` mode, or a target that could not be reached). */
  reset: number
  /** Connections the proxy closed with a FIN because of `cut`. */
  cut: number
  /** Bytes written to the target. */
  bytesToTarget: number
  /** Bytes written back to clients. */
  bytesFromTarget: number
}

/** A running fault proxy. */
export interface FaultProxy {
  /** The address it listens on. */
  readonly host: string
  /** The port it listens on. */
  readonly port: number
  /** The fault in force (a copy). */
  readonly fault: Fault
  /** Changes the fault for existing and new connections at once. Throws `GR_ERR_CHAOS_PROXY_CLOSED` after `close()`. */
  setFault(fault: Fault): void
  /** Counters since the proxy started. */
  stats(): FaultProxyStats
  /** Stops listening and destroys every connection. Safe to call twice. */
  close(): Promise<void>
}

/**
 * Starts a TCP proxy that forwards `listenHost:listenPort` to `targetHost:targetPort` and injects a
 * {@link Fault} on demand, so a service's dependency can fail without touching the dependency itself: put
 * the proxy's port in the service's connection string, then `setFault({ mode: 'blackhole' })`.
 *
 * Node's `net` only. Faults act on connections, not packets: `latency` delays chunks as the proxy reads
 * them, and `blackhole` stops reading rather than dropping bytes, which TCP could not lose without breaking
 * the stream (a real partition delays segments and retransmits them, it does not corrupt the stream).
 */
export async function createFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const o = validate.requireObject('options', options)
  validate.rejectUnknownKeys('', o, createFaultProxyOptionKeys)
  const targetHost = validate.requireString('targetHost', o.targetHost)
  const targetPort = validate.requireNumber('targetPort', o.targetPort, { min: 1, max: 65535, integer: true })
  const listenHost = validate.optionalString('listenHost', o.listenHost, '127.0.0.1')
  const listenPort = validate.optionalNumber('listenPort', o.listenPort, 0, { max: 65535, integer: true })
  const connectTimeoutMs = validate.optionalNumber('connectTimeoutMs', o.connectTimeoutMs, 5000, {
    min: 1,
    integer: true,
  })
  let fault = normalizeFault(o.fault ?? { mode: 'none' })

  const stats: FaultProxyStats = {
    accepted: 0,
    active: 0,
    reset: 0,
    cut: 0,
    bytesToTarget: 0,
    bytesFromTarget: 0,
  }
  const connections = new Set<ProxyConnection>()
  let closed = false

  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    stats.accepted++
    client.on('error', () => {})
    if (closed) return client.destroy()
    if (fault.mode === 'reset') {
      stats.reset++
      return resetSocket(client)
    }
    if (fault.mode === 'cut') {
      stats.cut++
      return client.destroySoon()
    }
    const connection = new ProxyConnection({
      client,
      openTarget: (): Socket => {
        const target = connect({ host: targetHost, port: targetPort, allowHalfOpen: true })
        target.setTimeout(connectTimeoutMs, () => {
          if (target.connecting) target.destroy(new Error(`connect to ${targetHost}:${targetPort} timed out`))
        })
        target.once('connect', () => target.setTimeout(0))
        return target
      },
      latencyMs: () => (fault.mode === 'latency' ? fault.latencyMs : 0),
      onBytes: (toTarget, n) => {
        if (toTarget) stats.bytesToTarget += n
        else stats.bytesFromTarget += n
      },
      onTargetUnreachable: () => {
        stats.reset++
      },
      onClose: () => {
        connections.delete(connection)
        stats.active = connections.size
      },
    })
    connections.add(connection)
    stats.active = connections.size
    connection.start(fault.mode === 'blackhole')
  })
  server.on('error', () => {})

  server.listen({ host: listenHost, port: listenPort })
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => {
      throw error
    }),
  ])
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : listenPort

  let closing: Promise<void> | undefined
  return {
    host: listenHost,
    port,
    get fault() {
      return { ...fault }
    },
    setFault(next) {
      if (closed) {
        throw new ChaosError(ChaosErrorCodes.PROXY_CLOSED, 'setFault() was called after close()')
      }
      fault = normalizeFault(next)
      for (const connection of [...connections]) {
        if (fault.mode === 'reset') {
          stats.reset++
          connection.reset()
        } else if (fault.mode === 'cut') {
          stats.cut++
          connection.cut()
        } else if (fault.mode === 'blackhole') {
          connection.hold()
        } else {
          connection.release()
        }
      }
    },
    stats: () => ({ ...stats }),
    close() {
      closing ??= (async () => {
        closed = true
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
        for (const connection of [...connections]) connection.destroy()
        await stopped
      })()
      return closing
    },
  }
}
