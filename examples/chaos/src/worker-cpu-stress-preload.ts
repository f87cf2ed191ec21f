// Preloaded into the notification worker by the chaos suite (NODE_OPTIONS=--import=..., with
// CHAOS_CPU_STRESS_FILE): CPU stress on the worker alone, as Chaos Mesh's StressChaos puts a stressor inside
// the worker's pod, where it competes for the pod's CPU and nothing else's. When the command file asks for
// it, the worker's own event loop spends `loadPercent` of every 100 ms slice in a busy loop, so the worker
// has the rest for its messages, its breaker and its /metrics. A separate burner process cannot do that on
// a two-core machine: at normal priority it takes a core from the gateways and order services too, and at
// nice 19 the worker preempts it, so the worker is barely stressed.
//
// Every timer is unref()'d: the stress never keeps a worker alive that is shutting down.

import { spinMs } from './busy-spin.js'
import { readCpuStressCommand } from './cpu-stress-command.js'

const file = process.env.CHAOS_CPU_STRESS_FILE
const SLICE_MS = 100
/** How often an idle preload looks at the file: the stress starts within this. */
const IDLE_POLL_MS = 250

if (file) {
  const tick = () => {
    const command = readCpuStressCommand(file)
    const busyMs = command && Date.now() < command.untilMs ? (SLICE_MS * command.loadPercent) / 100 : 0
    if (busyMs > 0) spinMs(busyMs)
    setTimeout(tick, busyMs > 0 ? SLICE_MS - busyMs : IDLE_POLL_MS).unref()
  }
  setTimeout(tick, IDLE_POLL_MS).unref()
}
