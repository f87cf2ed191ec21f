import { existsSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse } from 'yaml'
import {
  EMAIL_PROVIDER_HEALTH_PATH,
  entryPoint,
  LISTEN_HOST,
  SERVICE_ENV,
  SERVICE_NAMES,
  SERVICES,
  SHUTDOWN,
  URL_ENV,
} from './contract.js'
import { COMPOSE_DIR } from './paths.js'

// biome-ignore lint/suspicious/noExplicitAny: a compose file is untyped
export type Compose = any

export const COMPOSE_FILE = join(COMPOSE_DIR, 'compose.yaml')

/** compose.yaml with its YAML merge keys (`<<: *node-service`) resolved, as Compose reads it. */
export function readCompose(): Compose {
  return parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true, uniqueKeys: true })
}

const CONDITIONS = ['service_started', 'service_healthy', 'service_completed_successfully']

/** Go duration as Compose writes it ("20s", "1m30s") in seconds. */
export function seconds(d: string | undefined): number {
  let total = 0
  for (const [, n, unit] of String(d ?? '').matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(n) * { ms: 0.001, s: 1, m: 60, h: 3600 }[unit as 'ms' | 's' | 'm' | 'h']
  }
  return total
}

/**
 * What `docker compose up` would trip over, without a Docker engine: missing build contexts, Dockerfiles
 * and mounted files, depends_on targets that do not exist or cannot become healthy, and the services'
 * ports, variables and health checks disagreeing with the contract. One message per problem.
 */
export function composeProblems(compose: Compose, dir = COMPOSE_DIR): string[] {
  const problems: string[] = []
  if ('version' in compose) problems.push('the Compose Specification has no top-level `version:`')
  const services: Record<string, Compose> = compose.services ?? {}
  const namedVolumes = new Set(Object.keys(compose.volumes ?? {}))

  for (const [name, s] of Object.entries(services)) {
    const at = `service ${name}`
    if (!s.image && !s.build) problems.push(`${at}: needs an image or a build`)
    if (s.build) {
      const context = resolve(dir, typeof s.build === 'string' ? s.build : s.build.context)
      if (!existsSync(context) || !statSync(context).isDirectory())
        problems.push(`${at}: build context ${s.build.context} does not exist`)
      const dockerfile = resolve(context, s.build.dockerfile ?? 'Dockerfile')
      if (!existsSync(dockerfile))
        problems.push(`${at}: Dockerfile ${s.build.dockerfile} does not exist in the context`)
    }
    for (const v of s.volumes ?? []) {
      const source = typeof v === 'string' ? v.split(':')[0] : v.source
      if (/^[./~]/.test(source)) {
        if (!existsSync(resolve(dir, source))) problems.push(`${at}: mounted ${source} does not exist`)
      } else if (!namedVolumes.has(source))
        problems.push(`${at}: volume ${source} is not declared under volumes:`)
    }
    const deps = Array.isArray(s.depends_on)
      ? Object.fromEntries(s.depends_on.map((d: string) => [d, { condition: 'service_started' }]))
      : (s.depends_on ?? {})
    for (const [dep, spec] of Object.entries(deps) as [string, { condition?: string }][]) {
      if (!(dep in services)) {
        problems.push(`${at}: depends_on ${dep}, which is not a service`)
        continue
      }
      const condition = spec?.condition ?? 'service_started'
      if (!CONDITIONS.includes(condition))
        problems.push(`${at}: depends_on ${dep} with unknown condition ${condition}`)
      if (condition === 'service_healthy' && !services[dep].healthcheck) {
        problems.push(`${at}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`)
      }
    }
    for (const p of s.ports ?? []) {
      if (!String(p).startsWith('127.0.0.1:'))
        problems.push(`${at}: port ${p} is published on every interface`)
    }
  }
  problems.push(...cycleProblems(services))

  for (const name of SERVICE_NAMES) {
    const s = services[name]
    if (!s) {
      problems.push(`no service ${name}`)
      continue
    }
    problems.push(...nodeServiceProblems(name, s, services))
  }
  return problems
}

function nodeServiceProblems(
  name: (typeof SERVICE_NAMES)[number],
  s: Compose,
  services: Record<string, Compose>,
): string[] {
  const at = `service ${name}`
  const problems: string[] = []
  const contract = SERVICES[name]
  if (JSON.stringify(s.command) !== JSON.stringify([entryPoint(name)])) {
    problems.push(`${at}: command must be ["${entryPoint(name)}"] (the image's entry point is node)`)
  }
  const env: Record<string, string> = s.environment ?? {}
  if (Array.isArray(env)) return [...problems, `${at}: write environment as a mapping`]
  for (const v of Object.keys(env)) {
    if (!(SERVICE_ENV as readonly string[]).includes(v))
      problems.push(`${at}: ${v} is not a variable the services read`)
  }
  for (const v of contract.env) if (!(v in env)) problems.push(`${at}: ${v} is missing`)
  if (env.HOST !== LISTEN_HOST)
    problems.push(`${at}: HOST must be ${LISTEN_HOST}, or other containers cannot connect`)
  if (contract.port !== undefined && env.PORT !== String(contract.port))
    problems.push(`${at}: PORT must be "${contract.port}"`)
  if (contract.adminPort !== undefined && env.ADMIN_PORT !== String(contract.adminPort)) {
    problems.push(`${at}: ADMIN_PORT must be "${contract.adminPort}"`)
  }
  for (const [v, target] of Object.entries(URL_ENV)) {
    if (!(v in env)) continue
    for (const raw of env[v]!.split(',')) {
      const url = URL.canParse(raw) ? new URL(raw) : undefined
      if (
        !url ||
        url.hostname !== target.service ||
        Number(url.port) !== target.port ||
        !(target.service in services)
      ) {
        problems.push(`${at}: ${v} must point at service ${target.service} port ${target.port}, not ${raw}`)
      }
    }
  }
  if (env.PYROSCOPE_URL !== undefined) {
    const host = URL.canParse(env.PYROSCOPE_URL) ? new URL(env.PYROSCOPE_URL).hostname : ''
    if (!(host in services)) problems.push(`${at}: PYROSCOPE_URL points at ${host}, which is not a service`)
  }

  // The image has node and no curl: the check is a fetch of /readyz on the admin port (of GET /control
  // for the email provider, which has no admin port).
  const test: string[] = s.healthcheck?.test ?? []
  const url =
    contract.adminPort !== undefined
      ? `http://127.0.0.1:${contract.adminPort}/readyz`
      : `http://127.0.0.1:${contract.port}${EMAIL_PROVIDER_HEALTH_PATH}`
  if (test[0] !== 'CMD' || test[1] !== 'node' || test[2] !== '-e' || !test[3]?.includes(`fetch('${url}')`)) {
    problems.push(`${at}: healthcheck must be [CMD, node, -e, "fetch('${url}')..."]`)
  }
  const budget = SHUTDOWN.drainSeconds + SHUTDOWN.shutdownTimeoutSeconds
  if (!(seconds(s.stop_grace_period) > budget)) {
    problems.push(
      `${at}: stop_grace_period must exceed ${budget}s (drain + shutdown), or Docker kills it mid-shutdown`,
    )
  }
  return problems
}

function cycleProblems(services: Record<string, Compose>): string[] {
  const deps = (n: string) =>
    Object.keys((Array.isArray(services[n]?.depends_on) ? {} : services[n]?.depends_on) ?? {})
  const state = new Map<string, 'visiting' | 'done'>()
  const problems: string[] = []
  const visit = (n: string, path: string[]) => {
    if (state.get(n) === 'done') return
    if (state.get(n) === 'visiting') {
      problems.push(`depends_on cycle: ${[...path, n].join(' -> ')}`)
      return
    }
    state.set(n, 'visiting')
    for (const d of deps(n)) if (d in services) visit(d, [...path, n])
    state.set(n, 'done')
  }
  for (const n of Object.keys(services)) visit(n, [])
  return problems
}
