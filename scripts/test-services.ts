// Where the tests find the real PostgreSQL and NATS servers, and what happens when they are not there.
//
// With CI set an unreachable server fails the run: a green CI must mean the code met the real thing.
// Without CI the tests that need it skip, with one line that names the variable to set.
import { connect } from 'node:net'

export interface ServiceUrls {
  DATABASE_URL: string
  NATS_URL: string
}

const defaults: ServiceUrls = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
  NATS_URL: 'nats://127.0.0.1:4222',
}

/** Resolves the service's URL when it accepts TCP connections; null (after one line on stderr) when not. */
export async function serviceUrl(variable: keyof ServiceUrls): Promise<string | null> {
  const url = process.env[variable] || defaults[variable]
  const { hostname, port } = new URL(url)
  const ok = await canConnect(
    hostname || '127.0.0.1',
    Number(port) || (variable === 'NATS_URL' ? 4222 : 5432),
  )
  if (ok) return url
  const message = `${variable}=${url} is unreachable; set ${variable} to a reachable server to run these tests`
  if (process.env.CI) throw new Error(`${message} (CI is set, so this fails the run)`)
  console.warn(`skipping: ${message}`)
  return null
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(2000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}
