// One client connection through the fault proxy: two lanes (client to target, target to client), each a
// queue of chunks with the time each may be written, so latency keeps the order of the bytes and a black
// hole can hold them. Internal to createFaultProxy.

import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'

/** Bytes a lane may hold before it stops reading its source (latency mode with a fast sender). */
const HIGH_WATER_BYTES = 1024 * 1024

interface Queued {
  chunk: Buffer
  dueAt: number
}

class Lane {
  private readonly queue: Queued[] = []
  private queuedBytes = 0
  private lastDueAt = 0
  private timer: NodeJS.Timeout | undefined
  private destBlocked = false
  private sourceEnded = false
  private destEnded = false
  held = false
  dest: Socket | undefined

  constructor(
    private readonly source: Socket,
    private readonly latencyMs: () => number,
    private readonly onWritten: (n: number) => void,
  ) {
    source.on('data', (chunk: Buffer) => this.push(chunk))
    source.on('end', () => {
      this.sourceEnded = true
      this.pump()
    })
  }

  attach(dest: Socket): void {
    this.dest = dest
    dest.on('drain', () => {
      this.destBlocked = false
      this.updateFlow()
    })
    this.pump()
  }

  private push(chunk: Buffer): void {
    // Order is kept even when the latency is lowered mid-stream: no chunk is due before the one ahead of it.
    const dueAt = Math.max(performance.now() + this.latencyMs(), this.lastDueAt)
    this.lastDueAt = dueAt
    this.queue.push({ chunk, dueAt })
    this.queuedBytes += chunk.length
    this.pump()
  }

  pump(): void {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    const dest = this.dest
    if (this.held || !dest || dest.destroyed) {
      this.updateFlow()
      return
    }
    while (this.queue.length > 0) {
      const head = this.queue[0]!
      const wait = head.dueAt - performance.now()
      if (wait > 0) {
        this.timer = setTimeout(() => this.pump(), Math.ceil(wait))
        this.updateFlow()
        return
      }
      this.queue.shift()
      this.queuedBytes -= head.chunk.length
      this.onWritten(head.chunk.length)
      if (!dest.write(head.chunk)) this.destBlocked = true
    }
    if (this.sourceEnded && !this.destEnded) {
      this.destEnded = true
      dest.end()
    }
    this.updateFlow()
  }

  /** Reads from the source only while the proxy may forward and the destination keeps up. */
  private updateFlow(): void {
    if (this.source.destroyed) return
    const read = !this.held && !this.destBlocked && this.queuedBytes < HIGH_WATER_BYTES
    if (read && this.source.isPaused()) this.source.resume()
    else if (!read && !this.source.isPaused()) this.source.pause()
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.queue.length = 0
    this.queuedBytes = 0
  }
}

export interface ProxyConnectionOptions {
  client: Socket
  openTarget: () => Socket
  latencyMs: () => number
  onBytes: (toTarget: boolean, n: number) => void
  onTargetUnreachable: () => void
  onClose: () => void
}

export class ProxyConnection {
  private readonly client: Socket
  private target: Socket | undefined
  private readonly up: Lane
  private down: Lane | undefined
  private closed = false

  constructor(private readonly o: ProxyConnectionOptions) {
    this.client = o.client
    this.up = new Lane(this.client, o.latencyMs, (n) => o.onBytes(true, n))
    this.client.on('close', (hadError) => this.sideClosed(this.client, hadError))
  }

  /** Starts forwarding, or holds the connection without opening the target when `held` (a black hole). */
  start(held: boolean): void {
    if (held) this.hold()
    else this.release()
  }

  /** Stops forwarding both ways and stops reading, so the senders stall as in a partition. */
  hold(): void {
    this.up.held = true
    if (this.down) this.down.held = true
    this.up.pump()
    this.down?.pump()
  }

  /** Forwards again (opening the target first if the connection was held from its start). */
  release(): void {
    if (this.closed) return
    this.up.held = false
    if (!this.target) this.openTarget()
    if (this.down) this.down.held = false
    this.up.pump()
    this.down?.pump()
  }

  reset(): void {
    this.finish()
    resetSocket(this.client)
    if (this.target) resetSocket(this.target)
  }

  cut(): void {
    this.finish()
    this.client.destroySoon()
    this.target?.destroySoon()
  }

  destroy(): void {
    this.finish()
    this.client.destroy()
    this.target?.destroy()
  }

  private openTarget(): void {
    const target = this.o.openTarget()
    this.target = target
    target.on('error', () => {})
    const down = new Lane(target, this.o.latencyMs, (n) => this.o.onBytes(false, n))
    this.down = down
    down.attach(this.client)
    this.up.attach(target)
    let connected = false
    target.once('connect', () => {
      connected = true
    })
    target.on('close', (hadError) => {
      if (!connected && !this.closed) {
        // The target refused or timed out: tell the client with an RST, as a failed connect would.
        this.o.onTargetUnreachable()
        this.finish()
        resetSocket(this.client)
        return
      }
      this.sideClosed(target, hadError)
    })
  }

  private sideClosed(side: Socket, hadError: boolean): void {
    if (this.closed) return
    const other = side === this.client ? this.target : this.client
    if (hadError) {
      // An RST on one side is passed on as an RST, so the other peer sees what a direct connection would.
      this.finish()
      if (other) resetSocket(other)
      return
    }
    if (!other || other.destroyed) this.finish()
    else other.once('close', () => this.finish())
  }

  private finish(): void {
    if (this.closed) return
    this.closed = true
    this.up.stop()
    this.down?.stop()
    this.o.onClose()
  }
}

/** Closes with an RST (`ECONNRESET` for the peer) where the platform allows it, else plainly. */
export function resetSocket(socket: Socket): void {
  if (socket.destroyed) return
  try {
    socket.resetAndDestroy()
  } catch {
    socket.destroy()
  }
}
