// Preloaded into the order service by `npm run capacity -- --cpu-heavy` (NODE_OPTIONS=--import=...): every
// request to the public API burns CHAOS_CPU_BURN_MS milliseconds of CPU on the event loop before the
// service sees it, as a handler doing synchronous work (hashing, rendering, a big JSON) would. It touches
// nothing else: admin routes (/metrics, /readyz) are not slowed, so the measurements stay honest.
//
// It hooks Node's own `http.server.request.start` diagnostics channel, published synchronously when a
// request arrives, so the unmodified service binary becomes a CPU-bound one without a line of it changing.

import { subscribe } from 'node:diagnostics_channel'
import type { IncomingMessage } from 'node:http'
import { spinMs } from './busy-spin.js'

const burnMs = Number(process.env.CHAOS_CPU_BURN_MS ?? 5)

if (Number.isFinite(burnMs) && burnMs > 0) {
  subscribe('http.server.request.start', (message) => {
    const { request } = message as { request: IncomingMessage }
    if (!request.url?.startsWith('/api/')) return
    spinMs(burnMs)
  })
}
