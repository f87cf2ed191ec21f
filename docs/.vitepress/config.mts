import { sep } from 'node:path'
import { defineConfig } from 'vitepress'
import { readmeLinks } from '../lib/readme-links.js'
import { exampleSources, packageSources } from '../lib/sources.js'

// The sidebar lists what exists on disk when the site is built (see lib/sources.ts): a package or an
// example whose README lands later shows up without an edit here.
const packages = packageSources()
const examples = exampleSources()
const guides: Record<string, string> = {
  core: '/guide/core',
  fastify: '/guide/fastify',
  pg: '/guide/pg',
  nats: '/guide/nats',
}

export default defineConfig({
  title: '@goreliable',
  description:
    'Composable reliability plugins for Node.js services: metrics, breakers, pools, profiling, probes and graceful shutdown.',
  lang: 'en-US',
  // A dead link fails the build (VitePress' default); keep it that way.
  lastUpdated: false,
  // Page fragments that generated pages are assembled from (reference/_admin-routes.md), and this
  // workspace's own README, are no pages.
  srcExclude: ['**/_*.md', 'README.md'],
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: '/logo.svg' }]],
  // Vue logs an error thrown while a page is rendered and writes the page without its content, and the build
  // succeeds; a page without its heading fails the build here instead.
  transformHtml(html, id) {
    if (!id.endsWith(`${sep}404.html`) && !/<h1[\s>]/.test(html)) {
      throw new Error(`${id} was rendered without its heading: see the render error printed above`)
    }
  },
  markdown: {
    config(md) {
      readmeLinks(md)
    },
  },
  themeConfig: {
    logo: '/logo.svg',
    nav: [
      { text: 'Guide', link: '/getting-started', activeMatch: '^/(getting-started|guide/)' },
      { text: 'Recipes', link: '/recipes/', activeMatch: '^/recipes/' },
      { text: 'Reference', link: '/reference/', activeMatch: '^/reference/' },
      { text: 'Example stack', link: '/examples/', activeMatch: '^/examples/' },
    ],
    sidebar: {
      '/': [
        {
          text: 'Guide',
          items: [
            { text: 'Getting started', link: '/getting-started' },
            ...packages.filter((p) => guides[p.id]).map((p) => ({ text: p.name, link: guides[p.id]! })),
          ],
        },
        {
          text: 'Recipes',
          items: [
            { text: 'Overview', link: '/recipes/' },
            { text: 'Autoscaling on queue depth', link: '/recipes/autoscaling' },
            { text: 'Graceful shutdown in Kubernetes', link: '/recipes/graceful-shutdown' },
            { text: 'Profiling', link: '/recipes/profiling' },
            { text: 'Chaos experiments', link: '/recipes/chaos' },
            { text: 'Capacity planning', link: '/recipes/capacity' },
          ],
        },
        {
          text: 'Reference',
          items: [
            { text: 'Overview', link: '/reference/' },
            ...packages.map((p) => ({ text: p.name, link: `/reference/${p.id}` })),
            { text: 'Metrics', link: '/reference/metrics' },
            { text: 'Error codes', link: '/reference/errors' },
            { text: 'Admin routes', link: '/reference/admin-routes' },
            { text: 'Alert rules', link: '/reference/alerts' },
          ],
        },
        {
          text: 'Example stack',
          items: [
            { text: 'Run it', link: '/examples/' },
            ...examples.map((e) => ({ text: e.title, link: `/examples/${e.id}` })),
          ],
        },
      ],
    },
    outline: { level: [2, 3] },
    search: { provider: 'local' },
    footer: { message: 'Released under the MIT License.' },
  },
})
