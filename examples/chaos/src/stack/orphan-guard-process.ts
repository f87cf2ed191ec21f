// The orphan guard's own process (see orphan-guard.ts). It reads JSON lines on stdin: `{"add":pid}` and
// `{"remove":pid}` for the process groups to look after, `{"schema":name,"databaseUrl":url}` for the schema
// to drop, `{"done":true}` when the stack stopped cleanly. When stdin ends without `done`, the command that
// started it died without cleaning up (SIGKILL, a test runner tearing its worker down): it sends SIGTERM to
// every group, SIGKILL five seconds later to what is left, drops the schema, and exits.

import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'

const groups = new Set<number>()
let schema: { name: string; databaseUrl: string } | undefined
let done = false

createInterface({ input: process.stdin })
  .on('line', (line) => {
    let message: { add?: number; remove?: number; schema?: string; databaseUrl?: string; done?: boolean }
    try {
      message = JSON.parse(line)
    } catch {
      return
    }
    if (typeof message.add === 'number') groups.add(message.add)
    if (typeof message.remove === 'number') groups.delete(message.remove)
    if (message.schema && message.databaseUrl)
      schema = { name: message.schema, databaseUrl: message.databaseUrl }
    if (message.done) done = true
  })
  .on('close', () => {
    void cleanUp().finally(() => process.exit(0))
  })

async function cleanUp(): Promise<void> {
  if (done) return
  signal('SIGTERM')
  for (let waited = 0; waited < 5000 && [...groups].some(alive); waited += 100) await sleep(100)
  signal('SIGKILL')
  if (schema && /^[a-z_][a-z0-9_]{0,62}$/.test(schema.name)) {
    const client = new pg.Client({ connectionString: schema.databaseUrl, connectionTimeoutMillis: 5000 })
    try {
      await client.connect()
      await client.query(`drop schema if exists ${schema.name} cascade`)
    } catch {
      // Nothing more to do from here; the schema's name says which run left it.
    } finally {
      await client.end().catch(() => {})
    }
  }
}

function signal(name: NodeJS.Signals): void {
  for (const pid of groups) {
    try {
      process.kill(-pid, name)
    } catch {
      // gone already
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}
