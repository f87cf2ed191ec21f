import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 20_000,
    // Load and capacity tests measure latency and CPU: run the files one at a time so that one file's load
    // does not become another file's bottleneck on a two-core machine.
    fileParallelism: false,
  },
})
