import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One file at a time: several files time real servers, signals and event-loop load (the SIGTERM test
    // runs 50 clients), and on a two-core machine files running side by side starve each other's timers.
    fileParallelism: false,
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
