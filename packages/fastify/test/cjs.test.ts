import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// Runs the built package in a plain `node` process: vitest's own module loader would hide whether Node itself
// can require() the ESM build.
describe("require('@goreliable/fastify') from CommonJS", () => {
  it('loads the ESM build on Node 20.19+ and works', () => {
    const fixture = fileURLToPath(new URL('./fixtures/require-plugin.cjs', import.meta.url))
    const result = spawnSync(process.execPath, [fixture], { encoding: 'utf8', timeout: 15_000 })
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({
      sameDefault: true,
      code: 'GR_ERR_UPSTREAM_UNAVAILABLE',
      counted: true,
    })
  })
})
