import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const stub = (file: string) => fileURLToPath(new URL(`./test/support/k6/${file}`, import.meta.url))

export default defineConfig({
  // The k6 script imports k6's built-in modules; under test they resolve to recording stand-ins, so the
  // script's setup() and default function run here without a k6 binary.
  resolve: {
    alias: [
      { find: /^k6$/, replacement: stub('k6.ts') },
      { find: /^k6\/http$/, replacement: stub('http.ts') },
      { find: /^k6\/metrics$/, replacement: stub('metrics.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
