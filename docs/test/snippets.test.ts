// The TypeScript examples of the hand-written pages compile against the built packages, so a renamed
// option or export breaks CI rather than a reader's copy-paste. (The package READMEs shown in the
// reference are each package's own; the snippets here are the site's.) A block whose info string says
// `no-check` (```ts no-check) is left out.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const docsDir = fileURLToPath(new URL('..', import.meta.url))
// Under .vitepress/cache: ignored by git and Biome, and inside the repository, so that imports resolve
// through its node_modules to the workspace packages.
const outDir = join(docsDir, '.vitepress', 'cache', 'snippets')

function pages(dir = docsDir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name)
    if (d.isDirectory()) return d.name.startsWith('.') || d.name === 'node_modules' ? [] : pages(path)
    return d.name.endsWith('.md') && !d.name.includes('[') ? [path] : []
  })
}

interface Snippet {
  page: string
  line: number
  code: string
}

function snippets(): Snippet[] {
  return pages().flatMap((file) => {
    const out: Snippet[] = []
    const lines = readFileSync(file, 'utf8').split('\n')
    for (let i = 0; i < lines.length; i++) {
      const open = /^```(ts|typescript)(\s.*)?$/.exec(lines[i]!)
      if (!open) continue
      const start = i + 1
      while (i + 1 < lines.length && lines[i + 1] !== '```') i++
      if (!open[2]?.includes('no-check')) {
        out.push({
          page: relative(docsDir, file),
          line: start + 1,
          code: lines.slice(start, i + 1).join('\n'),
        })
      }
      i++
    }
    return out
  })
}

// Names the examples use without defining them: the reader's own code.
const PRELUDE = `import type { FastifyInstance } from 'fastify'
import type { Pool } from 'pg'
import '@goreliable/fastify'

declare global {
  const app: FastifyInstance
  const goreliable: typeof import('@goreliable/fastify').goreliable
  const registry: import('prom-client').Registry
  const pool: Pool
  const connection: import('@nats-io/transport-node').NatsConnection
  const db: Pool
  const server: { close(): Promise<void> }
  const cache: { ping(): Promise<void>; quit(): Promise<void> }
  const broker: { backlog(queue: string): Promise<number> }
  const factory: import('generic-pool').Factory<{ search(dn: string): Promise<unknown> }>
  const dn: string
  const since: Date
  const limit: number
  function fetchOrder(id: string): Promise<unknown>
  function sendEmail(order: unknown): Promise<void>
  function exportRow(row: unknown): Promise<void>
}
export {}
`

describe('TypeScript examples on the site', () => {
  const all = snippets()

  it('are found', () => {
    expect(all.length).toBeGreaterThan(10)
  })

  it('compile against the built packages', () => {
    rmSync(outDir, { recursive: true, force: true })
    mkdirSync(outDir, { recursive: true })
    writeFileSync(join(outDir, 'prelude.d.ts'), PRELUDE)
    const names = all.map((s, i) => {
      const name = `${s.page.replace(/[^\w]+/g, '_')}_${s.line}_${i}.ts`
      // `export {}` makes each snippet a module of its own, so top-level await works and names do not clash.
      writeFileSync(join(outDir, name), `${s.code}\nexport {}\n`)
      return name
    })
    writeFileSync(
      join(outDir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../../../tsconfig.base.json',
        // Examples index arrays the way readers do; the packages themselves are checked strictly.
        compilerOptions: {
          noEmit: true,
          composite: false,
          noUncheckedIndexedAccess: false,
          lib: ['ES2023', 'DOM'],
        },
        files: ['prelude.d.ts', ...names],
      }),
    )
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    let output = ''
    try {
      execFileSync(process.execPath, [tsc, '-p', join(outDir, 'tsconfig.json'), '--pretty', 'false'], {
        encoding: 'utf8',
      })
    } catch (err) {
      output = String((err as { stdout?: string }).stdout ?? err)
    }
    // Each error, named by the page and line of the example it is in.
    const errors = output
      .split('\n')
      .filter((l) => l.includes('error TS'))
      .map((l) => {
        const m = /^(?:.*\/)?([^/(]+\.ts)\((\d+),(\d+)\): (.*)$/.exec(l)
        const s = m ? all[names.indexOf(m[1]!)] : undefined
        return s && m ? `${s.page}:${s.line + Number(m[2]) - 1}: ${m[4]}` : l
      })
    expect(errors).toEqual([])
  }, 120_000)
})
