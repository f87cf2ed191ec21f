// Helpers for the tests of the built site (docs/.vitepress/dist, written by `npm run build`).
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

export const distDir: string = fileURLToPath(new URL('../.vitepress/dist/', import.meta.url))

/** Fails with the command to run when the site has not been built. */
export function requireBuiltSite(): void {
  if (!existsSync(join(distDir, 'index.html'))) {
    throw new Error(
      'docs/.vitepress/dist is missing: build the site first (npm run build -w @goreliable/docs)',
    )
  }
}

/** The HTML of a built page, by its URL path (`/reference/core` → reference/core.html). */
export function pageHtml(urlPath: string): string {
  const file = resolvePage(urlPath)
  if (!file) throw new Error(`no built page for ${urlPath} in ${distDir}`)
  return readFileSync(file, 'utf8')
}

/** What `<code>` holds for this text once VitePress renders it. */
export function codeHtml(text: string): string {
  const escaped = text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
  return `<code>${escaped}</code>`
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.yaml': 'text/yaml; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
}

function resolvePage(urlPath: string): string | null {
  const clean = normalize(decodeURIComponent(urlPath.split(/[?#]/)[0]!)).replace(/^([/\\])+/, '')
  const base = join(distDir, clean)
  if (!base.startsWith(distDir.replace(/[/\\]$/, '')) || clean.split(sep).includes('..')) return null
  for (const candidate of [base, `${base}.html`, join(base, 'index.html')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate
  }
  return null
}

/**
 * Serves the built site on 127.0.0.1 only (vitepress preview listens on every interface), with clean
 * URLs resolved as a static host would: /x → x, x.html or x/index.html; anything else is the site's 404.
 */
export async function serveSite(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const file = resolvePage(req.url ?? '/')
    const status = file ? 200 : 404
    const path = file ?? join(distDir, '404.html')
    res.writeHead(status, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' })
    res.end(readFileSync(path))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
