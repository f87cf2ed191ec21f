import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serviceUrl } from '../../../scripts/test-services.js'
import { DemoErrorCodes, ephemeralPort, resolvePostgres } from '../src/index.js'

const databaseUrl = await serviceUrl('DATABASE_URL')
const suffix = randomBytes(4).toString('hex')

async function query(url: string, text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await client.query(text, values)
  } finally {
    await client.end()
  }
}

describe.skipIf(!databaseUrl)('resolvePostgres with a real server', () => {
  const adminUrl = (() => {
    if (!databaseUrl) return ''
    const url = new URL(databaseUrl)
    url.pathname = '/postgres'
    return url.toString()
  })()
  const database = `gr_demo_test_${suffix}`
  const role = `gr_demo_nocreate_${suffix}`

  beforeAll(async () => {
    // A role that may log in but not create databases, to see the fallback.
    await query(adminUrl, `create role ${role} login nocreatedb nosuperuser`)
  })
  afterAll(async () => {
    await query(adminUrl, `drop database if exists ${database} with (force)`)
    await query(adminUrl, `drop role if exists ${role}`)
  })

  it('uses DATABASE_URL as given when it answers', async () => {
    const lines: string[] = []
    const resolved = await resolvePostgres({ databaseUrl: databaseUrl!, log: (l) => lines.push(l) })
    expect(resolved).toMatchObject({
      url: databaseUrl,
      source: 'env',
      singleBackend: false,
      recommendedPoolMax: 10,
    })
    expect(lines.join('\n')).toContain('DATABASE_URL')
    await resolved.close()
  })

  it('fails with a message naming DATABASE_URL when it does not answer, without falling back', async () => {
    const port = await ephemeralPort()
    const url = `postgres://postgres:secret@127.0.0.1:${port}/nope`
    await expect(resolvePostgres({ databaseUrl: url, connectTimeoutMs: 1000 })).rejects.toMatchObject({
      code: DemoErrorCodes.POSTGRES_UNAVAILABLE,
      message: expect.stringMatching(/DATABASE_URL=postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/),
    })
  })

  it('creates a dedicated database on the local server, once', async () => {
    const resolve = () => resolvePostgres({ mode: 'auto', databaseUrl: '', localUrl: adminUrl, database })
    const resolved = await resolve()
    expect(resolved.source).toBe('local')
    expect(new URL(resolved.url).pathname).toBe(`/${database}`)
    expect(resolved.description).toContain(database)
    const { rows } = await query(resolved.url, 'select current_database() as db')
    expect(rows[0].db).toBe(database)
    // A second launcher finds it and reuses it.
    expect((await resolve()).url).toBe(resolved.url)
  })

  it('falls back to an existing database when the role may not create one', async () => {
    const url = new URL(adminUrl)
    url.username = role
    const lines: string[] = []
    const resolved = await resolvePostgres({
      mode: 'local',
      localUrl: url.toString(),
      database: `gr_demo_never_${suffix}`,
      fallbackDatabase: 'test',
      log: (l) => lines.push(l),
    })
    expect(new URL(resolved.url).pathname).toBe('/test')
    expect(lines.join('\n')).toMatch(/cannot create database gr_demo_never_/)
    const { rows } = await query(resolved.url, 'select current_user as u')
    expect(rows[0].u).toBe(role)
  })
})

describe('resolvePostgres without a server', () => {
  it('fails in local mode when nothing answers', async () => {
    const port = await ephemeralPort()
    await expect(
      resolvePostgres({ mode: 'local', localUrl: `postgres://postgres@127.0.0.1:${port}/postgres` }),
    ).rejects.toMatchObject({ code: DemoErrorCodes.POSTGRES_UNAVAILABLE })
  })

  it('fails in env mode without DATABASE_URL', async () => {
    await expect(resolvePostgres({ mode: 'env', databaseUrl: '' })).rejects.toMatchObject({
      code: DemoErrorCodes.POSTGRES_UNAVAILABLE,
    })
  })

  it('rejects unknown and bad options naming them', async () => {
    await expect(resolvePostgres({ url: 'x' } as never)).rejects.toMatchObject({
      code: 'GR_ERR_INVALID_OPTION',
    })
    await expect(resolvePostgres({ database: 'bad; drop' })).rejects.toThrow(/database/)
    await expect(resolvePostgres({ mode: 'sqlite' as never })).rejects.toThrow(/mode/)
  })
})
