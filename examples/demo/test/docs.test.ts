// Keeps README.md and the code in step: every error code, option key and service environment variable.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  createSupervisorOptionKeys,
  DemoErrorCodes,
  defaultPorts,
  demoMetricFamilies,
  resolveNatsOptionKeys,
  resolvePostgresOptionKeys,
  runDemoOptionKeys,
  serviceNames,
  stackEnv,
} from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const documented = (name: string) => readme.includes(`\`${name}\``)

describe('README.md documents', () => {
  it.each(Object.values(DemoErrorCodes))('error code %s', (code) => {
    expect(documented(code)).toBe(true)
  })

  const optionKeys = {
    resolvePostgres: resolvePostgresOptionKeys,
    resolveNats: resolveNatsOptionKeys,
    createSupervisor: createSupervisorOptionKeys,
    runDemo: runDemoOptionKeys,
  }
  const pairs = Object.entries(optionKeys).flatMap(([factory, keys]) =>
    keys.map((k) => [factory, k] as const),
  )
  it.each(pairs)('option of %s: %s', (_factory, key) => {
    expect(documented(key)).toBe(true)
  })

  const env = stackEnv({
    ports: { ...defaultPorts },
    databaseUrl: 'x',
    natsUrl: 'x',
    databasePoolMax: 1,
    jwtSecret: 'x',
    authClients: 'x',
    logLevel: 'x',
  })
  const variables = [...new Set(serviceNames.flatMap((name) => Object.keys(env[name])))]
  it.each(variables)('service variable %s', (variable) => {
    expect(documented(variable)).toBe(true)
  })

  it.each([...demoMetricFamilies])('metric family shown: %s', (family) => {
    expect(documented(family)).toBe(true)
  })

  it.each(['--once', '--orders=N', '--postgres=MODE', '--nats=MODE', '--log-level=LEVEL'])(
    'flag %s',
    (flag) => {
      expect(documented(flag)).toBe(true)
    },
  )
})
