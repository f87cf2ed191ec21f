// What the tests that start the whole example stack need: the real PostgreSQL, a nats-server binary for the
// stack's private NATS, and the built services. Without CI a missing one skips them with a line naming it;
// with CI set it fails the run.
import { existsSync } from 'node:fs'
import { defaultEntries, findNatsServer } from '@goreliable/example-demo'
import { serviceUrl } from '../../../../scripts/test-services.js'

/** The database URL when every prerequisite is there, null (after saying why) when not. */
export async function stackPrerequisites(): Promise<string | null> {
  const databaseUrl = await serviceUrl('DATABASE_URL')
  if (!databaseUrl) return null
  const missing = [
    ...(findNatsServer() ? [] : ['nats-server (apt-get install nats-server)']),
    ...Object.values(defaultEntries())
      .filter((entry) => !existsSync(entry))
      .map((entry) => `${entry} (build the examples)`),
  ]
  if (missing.length === 0) return databaseUrl
  const message = `the example stack cannot start: missing ${missing.join(', ')}`
  if (process.env.CI) throw new Error(`${message} (CI is set, so this fails the run)`)
  console.warn(`skipping: ${message}`)
  return null
}
