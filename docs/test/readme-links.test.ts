// How README links are rewritten for the site (lib/readme-links.ts).
import { describe, expect, it } from 'vitest'
import { rewriteHref } from '../lib/readme-links.js'

describe('rewriteHref', () => {
  it('keeps absolute URLs, site paths and anchors', () => {
    expect(rewriteHref('https://pglite.dev', 'examples/demo')).toBe('https://pglite.dev')
    expect(rewriteHref('#tests', 'examples/chaos')).toBe('#tests')
    expect(rewriteHref('/reference/core', 'packages/pg')).toBe('/reference/core')
  })

  it('sends a README, or the folder that holds it, to its page', () => {
    expect(rewriteHref('../core/README.md', 'packages/fastify')).toBe('/reference/core')
    expect(rewriteHref('../core/README.md#errors', 'packages/fastify')).toBe('/reference/core#errors')
    expect(rewriteHref('../../packages/core', 'examples/demo')).toBe('/reference/core')
    expect(rewriteHref('../email-provider/README.md', 'examples/demo')).toBe('/examples/email-provider')
  })

  it('drops a link to another file of the repository', () => {
    expect(rewriteHref('bench/breaker.mjs', 'packages/core')).toBeNull()
    expect(rewriteHref('../demo/src/services.ts', 'examples/notification-worker')).toBeNull()
  })
})
