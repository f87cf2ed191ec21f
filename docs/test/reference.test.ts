// The site's reference agrees with the code: every error code, option key and metric that a built package
// defines is on that package's reference page (its README, included), every code has its README row on
// the error-code page, and every metric is on the metrics page with an alert from public/alerts.yaml that
// reads it. A new option, metric or code without its docs fails here.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { adminRoutes } from '../lib/admin-routes.js'
import { exercises } from '../lib/exercises.js'
import { collectReference, type PackageReference } from '../lib/reference.js'
import { alertsFor, loadAlerts, readmeRow } from '../lib/render.js'
import { exampleSources, packageSources } from '../lib/sources.js'
import { codeHtml, distDir, pageHtml, requireBuiltSite } from './site.js'

const sources = packageSources()
/** Packages with source code; skeletons with an empty src/ are not packages yet. */
const written = sources.filter((s) => {
  try {
    return readdirSync(join(s.dir, 'src')).some((f) => f.endsWith('.ts'))
  } catch {
    return false
  }
})

let refs: PackageReference[]
beforeAll(async () => {
  requireBuiltSite()
  refs = await collectReference(sources)
})
const refOf = (id: string) => refs.find((r) => r.id === id)!

describe('the site is current', () => {
  it('was built after every README and package build it shows', () => {
    const built = statSync(join(distDir, 'index.html')).mtimeMs
    const inputs = [
      ...sources.flatMap((s) => [s.readme, s.distEntry]),
      ...exampleSources().map((e) => e.readme),
    ].filter((f): f is string => f !== null)
    const newer = inputs.filter((f) => statSync(f).mtimeMs > built)
    expect(newer, 'rebuild the site: npm run build -w @goreliable/docs').toEqual([])
  })
})

describe.each(written.map((s) => [s.name, s] as const))('%s', (_name, source) => {
  it('is built, has a README and has a metrics exercise in docs/lib/exercises.ts', () => {
    expect(source.distEntry, `build it: cd ${source.dir} && npx tsc -b`).not.toBeNull()
    expect(source.readme, `${source.dir}/README.md is missing`).not.toBeNull()
    expect(exercises[source.id], `add "${source.id}" to docs/lib/exercises.ts`).toBeDefined()
  })

  it('every error code is on its reference page and has its README row on the error-code page', () => {
    const ref = refOf(source.id)
    const page = pageHtml(`/reference/${source.id}`)
    const errorsPage = pageHtml('/reference/errors')
    const readme = readFileSync(source.readme!, 'utf8')
    const missing = ref.errorCodes.filter(
      (code) =>
        !page.includes(codeHtml(code)) || !errorsPage.includes(codeHtml(code)) || !readmeRow(readme, code),
    )
    expect(missing).toEqual([])
  })

  it('every option key is on its reference page', () => {
    const page = pageHtml(`/reference/${source.id}`)
    const missing = refOf(source.id).optionKeys.flatMap(({ factory, keys }) =>
      keys.filter((k) => !page.includes(codeHtml(k))).map((k) => `${factory}: ${k}`),
    )
    expect(missing).toEqual([])
  })

  it('every metric is on its reference page and on the metrics page, with an alert that reads it', () => {
    const metrics = refOf(source.id).metrics ?? []
    const page = pageHtml(`/reference/${source.id}`)
    const metricsPage = pageHtml('/reference/metrics')
    const alerts = loadAlerts()
    expect(metrics.length).toBeGreaterThan(0)
    expect(metrics.filter((m) => !page.includes(codeHtml(m.name))).map((m) => m.name)).toEqual([])
    expect(metrics.filter((m) => !metricsPage.includes(codeHtml(m.name))).map((m) => m.name)).toEqual([])
    expect(metrics.filter((m) => alertsFor(m.name, alerts).length === 0).map((m) => m.name)).toEqual([])
  })
})

describe('every README-backed page is on the site', () => {
  it.each(sources.map((s) => [s.id]))('/reference/%s', (id) => {
    expect(pageHtml(`/reference/${id}`)).toContain('<h1')
  })
  it.each(exampleSources().map((e) => [e.id]))('/examples/%s', (id) => {
    expect(pageHtml(`/examples/${id}`)).toContain('<h1')
  })
})

const fastify = written.find((s) => s.id === 'fastify' && s.distEntry)
describe.skipIf(!fastify)('admin routes', () => {
  it('every route of the admin server is on the admin-routes page and the fastify reference', async () => {
    const routes = await adminRoutes(fastify!)
    expect(routes).toContain('GET /metrics')
    const pages = [pageHtml('/reference/admin-routes'), pageHtml('/reference/fastify')]
    const missing = routes.filter((r) => !pages.every((p) => p.includes(`<code>${r}`)))
    expect(missing).toEqual([])
  })
})
