// The embedded PGlite path: its start compiles WebAssembly (about ten seconds), so the file has its own
// generous timeout and starts PGlite once per case.
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { canConnect, ephemeralPort, resolvePostgres } from '../src/index.js'

describe('resolvePostgres with the embedded PGlite', () => {
  it('serves PGlite over the wire protocol so pg runs unchanged, and stops it on close', async () => {
    const lines: string[] = []
    const resolved = await resolvePostgres({
      mode: 'pglite',
      pgliteMaxConnections: 4,
      log: (l) => lines.push(l),
    })
    const { port } = new URL(resolved.url)
    try {
      expect(resolved).toMatchObject({ source: 'pglite', singleBackend: true, recommendedPoolMax: 1 })
      expect(new URL(resolved.url).hostname).toBe('127.0.0.1')
      expect(lines.join('\n')).toContain('PGlite')

      const pool = new pg.Pool({ connectionString: resolved.url, max: 2 })
      try {
        await pool.query('create table demo_orders (id serial primary key, amount int not null)')
        // Two connections, one inside a transaction: the other waits for the commit (one shared backend),
        // then sees the row; nothing is lost or interleaved.
        const a = await pool.connect()
        const b = await pool.connect()
        await a.query('begin')
        await a.query('insert into demo_orders (amount) values ($1)', [1234])
        const seenByB = b.query('select count(*)::int as n from demo_orders')
        await a.query('commit')
        expect((await seenByB).rows[0].n).toBe(1)
        a.release()
        b.release()
        const { rows } = await pool.query('select amount from demo_orders')
        expect(rows).toEqual([{ amount: 1234 }])
        await expect(pool.query('select * from missing_table')).rejects.toMatchObject({ code: '42P01' })
      } finally {
        await pool.end()
      }
    } finally {
      await resolved.close()
      await resolved.close()
    }
    expect(await canConnect('127.0.0.1', Number(port), 500)).toBe(false)
  }, 60_000)

  it('is what auto mode falls back to when DATABASE_URL is unset and no local server answers', async () => {
    const closed = await ephemeralPort()
    const resolved = await resolvePostgres({
      databaseUrl: '',
      localUrl: `postgres://postgres@127.0.0.1:${closed}/postgres`,
    })
    try {
      expect(resolved.source).toBe('pglite')
      const client = new pg.Client({ connectionString: resolved.url })
      await client.connect()
      expect((await client.query('select 1 + 1 as two')).rows[0].two).toBe(2)
      await client.end()
    } finally {
      await resolved.close()
    }
  }, 60_000)
})
