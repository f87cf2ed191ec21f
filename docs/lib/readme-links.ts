// The package and example READMEs are written to be read on GitHub and npm, next to the code, so their
// relative links point at files of the repository (`../core/README.md`, `bench/breaker.mjs`). Included in
// a site page, those links would resolve against the page's URL and fail the build as dead links. This
// markdown-it rule rewrites them: a link to a README that the site shows goes to its page, a link to
// another file of the repository keeps its text and loses the link, and an image is bundled from where
// it lies.
import { existsSync } from 'node:fs'
import { dirname, join, posix, relative } from 'node:path'
import type { MarkdownRenderer } from 'vitepress'
import { repoRoot } from './sources.js'

/** The folder a README-backed page's content was written in, relative to the repository root. */
export function sourceDirOf(relativePath: string): string | null {
  const m = /^(reference|examples)\/([^/]+)\.md$/.exec(relativePath)
  if (!m) return null
  const folder = m[1] === 'reference' ? 'packages' : 'examples'
  const dir = join(folder, m[2]!)
  return existsSync(join(repoRoot, dir, 'README.md')) ? dir : null
}

const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/|#|\/)/i

/** Where a README's relative link goes on the site: a page path, or null for "no link". */
export function rewriteHref(href: string, sourceDir: string): string | null {
  if (EXTERNAL.test(href)) return href
  const [path = '', hash = ''] = href.split(/(?=#)/)
  const target = posix.normalize(posix.join(sourceDir.split('\\').join('/'), path))
  // A package's or an example's README, or its folder (GitHub shows the README there).
  let m = /^packages\/([^/]+)(?:\/README\.md|\/)?$/.exec(target)
  if (m && existsSync(join(repoRoot, 'packages', m[1]!, 'README.md'))) return `/reference/${m[1]}${hash}`
  m = /^examples\/([^/]+)(?:\/README\.md|\/)?$/.exec(target)
  if (m && existsSync(join(repoRoot, 'examples', m[1]!, 'README.md'))) return `/examples/${m[1]}${hash}`
  m = /^docs\/(.+)\.md$/.exec(target)
  if (m) return `/${m[1]}${hash}`
  return null
}

interface Token {
  type: string
  tag: string
  content: string
  children: Token[] | null
  attrGet(name: string): string | null
  attrSet(name: string, value: string): void
}

export function readmeLinks(md: MarkdownRenderer): void {
  md.core.ruler.push('goreliable_readme_links', (state) => {
    const env = state.env as { relativePath?: string; path?: string }
    const sourceDir = env.relativePath ? sourceDirOf(env.relativePath) : null
    if (!sourceDir) return
    for (const block of state.tokens as Token[]) {
      const children = block.children ?? []
      const dropped: number[] = []
      let depth = 0
      for (const token of children) {
        if (token.type === 'link_open') {
          const href = token.attrGet('href') ?? ''
          const to = rewriteHref(href, sourceDir)
          if (to === null) {
            dropped.push(depth)
            token.type = 'text'
            token.tag = ''
            token.content = ''
          } else token.attrSet('href', to)
          depth++
        } else if (token.type === 'link_close') {
          depth--
          if (dropped.at(-1) === depth) {
            dropped.pop()
            token.type = 'text'
            token.tag = ''
            token.content = ''
          }
        } else if (token.type === 'image' && env.path) {
          const src = token.attrGet('src') ?? ''
          if (!EXTERNAL.test(src)) {
            const file = join(repoRoot, sourceDir, src)
            token.attrSet('src', relative(dirname(env.path), file).split('\\').join('/'))
          }
        }
      }
    }
  })
}
