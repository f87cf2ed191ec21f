// Keeps README.md and the code in step: every option, fault setting, route and environment variable.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createEmailProvider, createEmailProviderOptionKeys, healthyFaults } from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const documented = (name: string) => readme.includes(`\`${name}\``)

describe('README.md documents', () => {
  it.each([...createEmailProviderOptionKeys])('option %s', (key) => {
    expect(documented(key)).toBe(true)
  })

  it.each(Object.keys(healthyFaults))('fault setting %s', (key) => {
    expect(documented(key)).toBe(true)
  })

  it.each(['PORT', 'HOST', 'LOG_LEVEL', 'EMAIL_PROVIDER_INVALID_OPTION'])('%s', (name) => {
    expect(documented(name)).toBe(true)
  })

  it('every route', async () => {
    const app = createEmailProvider()
    await app.ready()
    const routes = app
      .printRoutes({ commonPrefix: false })
      .split('\n')
      .map((line) => line.match(/(\/\S*) \(([A-Z, ]+)\)/))
      .filter((m): m is RegExpMatchArray => m !== null)
      .flatMap((m) =>
        m[2]!
          .split(', ')
          .filter((verb) => verb !== 'HEAD')
          .map((verb) => `${verb} ${m[1]}`),
      )
    expect(routes.length).toBeGreaterThanOrEqual(7)
    for (const route of routes) expect(readme, route).toContain(`\`${route}\``)
    await app.close()
  })
})
