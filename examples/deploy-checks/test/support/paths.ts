import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
export const EXAMPLES = join(ROOT, 'examples')
export const COMPOSE_DIR = join(EXAMPLES, 'compose')
export const K8S_DIR = join(EXAMPLES, 'k8s')
export const RULES_DIR = join(K8S_DIR, 'monitoring', 'rules')
export const RULES_FILE = join(RULES_DIR, 'goreliable.rules.yml')
export const RULES_TEST_FILE = join(RULES_DIR, 'goreliable.rules.test.yml')
export const K6_SCRIPT = join(EXAMPLES, 'load', 'k6', 'orders.js')
export const DASHBOARDS_DIR = join(COMPOSE_DIR, 'grafana', 'dashboards')

/** Paths relative to the repository root, for messages. */
export const rel = (path: string) => relative(ROOT, path)

/** Every file under `dir` whose name matches, recursively. */
export function filesUnder(dir: string, match: (name: string) => boolean): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...filesUnder(path, match))
    else if (match(name)) out.push(path)
  }
  return out.sort()
}
