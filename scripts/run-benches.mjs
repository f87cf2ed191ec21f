// Runs every `bench/*.mjs` of the package it is called from, one after another, each in its own process so
// that one benchmark's JIT state and heap cannot colour the next. Exits non-zero when any bench failed.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

const dir = join(process.cwd(), 'bench')
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .sort()
let failed = 0
for (const f of files) {
  console.log(`\n# ${f}`)
  const r = spawnSync(process.execPath, [join(dir, f)], { stdio: 'inherit' })
  if (r.status !== 0) failed++
}
process.exit(failed ? 1 : 0)
