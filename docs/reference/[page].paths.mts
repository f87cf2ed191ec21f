// The reference pages that come from elsewhere: one per package under packages/ (its README, included
// as it is, so the README stays the single source), the metrics and error-code pages, generated from the
// built packages, and the admin-routes page, whose route table is the fastify README's. Listed from disk when the site builds, so a package that lands later needs
// no edit here.
import { relative } from 'node:path'
import { collectReference } from '../lib/reference.js'
import { renderAdminRoutesPage, renderErrorsPage, renderMetricsPage } from '../lib/render.js'
import { packageSources } from '../lib/sources.js'

const here = new URL('.', import.meta.url).pathname

async function generatedPages(sources: ReturnType<typeof packageSources>) {
  try {
    const refs = await collectReference(sources)
    return { metrics: renderMetricsPage(refs), errors: renderErrorsPage(refs, sources) }
  } catch (err) {
    // VitePress turns an error thrown here into a warning and builds on without these pages; fail the
    // build instead, with the cause in plain sight.
    console.error('\nCould not read the reference lists from the built packages:\n', err)
    process.exitCode = 1
    const page = (title: string) => `# ${title}\n\n::: danger\nThe build could not generate this page.\n:::\n`
    return { metrics: page('Metrics'), errors: page('Error codes') }
  }
}

export default {
  async paths() {
    const sources = packageSources()
    const { metrics, errors } = await generatedPages(sources)
    const packagePages = sources.map((s) => ({
      params: { page: s.id, title: s.name },
      content: s.readme
        ? `<!--@include: ${relative(here, s.readme)}-->`
        : `# ${s.name}\n\nThis package's reference (its README) is not written yet.\n`,
    }))
    return [
      ...packagePages,
      { params: { page: 'metrics', title: 'Metrics' }, content: metrics },
      { params: { page: 'errors', title: 'Error codes' }, content: errors },
      { params: { page: 'admin-routes', title: 'Admin routes' }, content: renderAdminRoutesPage(sources) },
    ]
  },
}
