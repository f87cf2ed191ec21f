// Synchronous CPU work on the calling thread, shared by the two preloads that load a service's event loop
// from inside (`cpu-heavy-preload`, `worker-cpu-stress-preload`).

/** Keeps the calling thread busy for `durationMs` milliseconds, as a synchronous handler would. */
export function spinMs(durationMs: number): void {
  const end = performance.now() + durationMs
  while (performance.now() < end) {
    // busy: nothing else runs on this event loop meanwhile
  }
}
