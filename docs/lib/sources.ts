// Where the site's reference comes from: the package and example READMEs found on disk when the site is
// built. The site lists what exists instead of a hand-kept list, so a package that lands later appears
// without an edit here, and a README that is not written yet never leaves a silently empty page.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root (docs/ is one of its workspaces). */
export const repoRoot: string = fileURLToPath(new URL('../../', import.meta.url))

/** The reading order of the published packages; packages not named here follow, alphabetically. */
const PACKAGE_ORDER = ['core', 'fastify', 'pg', 'nats']

export interface PackageSource {
  /** Folder name under packages/, also the page slug: /reference/<id>. */
  id: string
  /** npm name, e.g. @goreliable/core. */
  name: string
  /** Absolute folder. */
  dir: string
  /** Absolute path of README.md, or null while it is not written. */
  readme: string | null
  /** Absolute path of the built entry (dist/index.js), or null before `tsc -b` ran. */
  distEntry: string | null
}

export interface ExampleSource {
  /** Folder name under examples/, also the page slug: /examples/<id>. */
  id: string
  /** Absolute folder. */
  dir: string
  /** Absolute path of README.md (examples without one are not listed). */
  readme: string
  /** The README's first heading, for the sidebar. */
  title: string
}

function subfolders(parent: string): string[] {
  if (!existsSync(parent)) return []
  return readdirSync(parent, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
}

function firstHeading(file: string): string | null {
  const match = /^#\s+(.+)$/m.exec(readFileSync(file, 'utf8'))
  return match ? match[1]!.trim() : null
}

/** Every workspace under packages/ (published packages), README or not. */
export function packageSources(root: string = repoRoot): PackageSource[] {
  const rank = (id: string) => {
    const i = PACKAGE_ORDER.indexOf(id)
    return i === -1 ? PACKAGE_ORDER.length : i
  }
  return subfolders(join(root, 'packages'))
    .filter((id) => existsSync(join(root, 'packages', id, 'package.json')))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((id) => {
      const dir = join(root, 'packages', id)
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string }
      const readme = join(dir, 'README.md')
      const distEntry = join(dir, 'dist', 'index.js')
      return {
        id,
        name: pkg.name,
        dir,
        readme: existsSync(readme) ? readme : null,
        distEntry: existsSync(distEntry) ? distEntry : null,
      }
    })
}

/** The reading order of the examples: the services, then how to run them; others follow, alphabetically. */
const EXAMPLE_ORDER = [
  'gateway',
  'order-service',
  'notification-worker',
  'email-provider',
  'demo',
  'compose',
  'k8s',
  'load',
  'chaos',
  'capacity',
]

/** Every folder under examples/ that has a README.md. */
export function exampleSources(root: string = repoRoot): ExampleSource[] {
  const rank = (id: string) => {
    const i = EXAMPLE_ORDER.indexOf(id)
    return i === -1 ? EXAMPLE_ORDER.length : i
  }
  return subfolders(join(root, 'examples'))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((id) => ({ id, dir: join(root, 'examples', id), readme: join(root, 'examples', id, 'README.md') }))
    .filter((e) => existsSync(e.readme))
    .map((e) => ({ ...e, title: firstHeading(e.readme) ?? e.id }))
}
