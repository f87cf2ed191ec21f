import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { COMPOSE_FILE, type Compose, composeProblems, readCompose } from './support/compose-checks.js'
import { SERVICE_NAMES } from './support/contract.js'
import { COMPOSE_DIR, K6_SCRIPT, ROOT } from './support/paths.js'

const broken = (change: (c: Compose) => void) => {
  const c = readCompose()
  change(c)
  return composeProblems(c).join('\n')
}

describe('compose.yaml', () => {
  it('parses, and every build context, Dockerfile, mounted file and depends_on target it names exists', () => {
    expect(composeProblems(readCompose())).toEqual([])
  })

  it('runs the four services, their dependencies and the observability stack', () => {
    const services = readCompose().services
    expect(Object.keys(services).sort()).toEqual(
      [...SERVICE_NAMES, 'postgres', 'nats', 'prometheus', 'grafana', 'pyroscope', 'k6'].sort(),
    )
    expect(services.k6.profiles).toEqual(['load'])
    expect(services.nats.command.join(' ')).toMatch(/^-js -m 8222\b/)
  })

  it('builds the four services from one image of the one Dockerfile', () => {
    const services = readCompose().services
    const builds = SERVICE_NAMES.map((n) => JSON.stringify([services[n].image, services[n].build]))
    expect(new Set(builds).size).toBe(1)
    const { context, dockerfile } = services.gateway.build
    expect(resolve(COMPOSE_DIR, context)).toBe(resolve(ROOT))
    const file = resolve(COMPOSE_DIR, context, dockerfile)
    const text = readFileSync(file, 'utf8')
    const stages = [...text.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1])
    expect(stages.length, 'multi-stage').toBeGreaterThanOrEqual(2)
    for (const image of stages) expect(image).toMatch(/^node:20\b/)
    expect(text).toMatch(/^ENTRYPOINT \["node"\]$/m)
    expect(text).toMatch(/^USER node$/m)
    // BuildKit reads <Dockerfile>.dockerignore beside it: the context is the repository root.
    const ignore = readFileSync(`${file}.dockerignore`, 'utf8')
    expect(ignore).toMatch(/^\*\*\/node_modules$/m)
    expect(ignore).toMatch(/^\*\*\/dist$/m)
  })

  it('waits for healthy dependencies before starting each service', () => {
    const services = readCompose().services
    const healthy = (n: string) =>
      Object.entries(services[n].depends_on)
        .filter(([, d]) => (d as { condition: string }).condition === 'service_healthy')
        .map(([dep]) => dep)
        .sort()
    expect(healthy('gateway')).toEqual(['order-service'])
    expect(healthy('order-service')).toEqual(['nats', 'postgres'])
    expect(healthy('notification-worker')).toEqual(['email-provider', 'nats'])
    expect(healthy('grafana')).toEqual(['prometheus'])
  })

  it('mounts the k6 script for the load profile', () => {
    const k6 = readCompose().services.k6
    const [source, target] = k6.volumes[0].split(':')
    expect(resolve(COMPOSE_DIR, source, 'orders.js')).toBe(K6_SCRIPT)
    expect(k6.command).toEqual(['run', `${target}/orders.js`])
  })

  it.each([
    [
      'a depends_on target that does not exist',
      (c: Compose) => {
        c.services.gateway.depends_on.orders = { condition: 'service_healthy' }
      },
      /depends_on orders, which is not a service/,
    ],
    [
      'waiting on a service without a healthcheck',
      (c: Compose) => {
        c.services.gateway.depends_on.pyroscope.condition = 'service_healthy'
      },
      /pyroscope has no healthcheck/,
    ],
    [
      'a missing mounted file',
      (c: Compose) => {
        c.services.prometheus.volumes[0] = './prometheus/prometheus.yaml:/etc/prometheus/prometheus.yml:ro'
      },
      /mounted \.\/prometheus\/prometheus\.yaml does not exist/,
    ],
    [
      'an undeclared named volume',
      (c: Compose) => {
        delete c.volumes.pgdata
      },
      /volume pgdata is not declared/,
    ],
    [
      'a missing build context',
      (c: Compose) => {
        c.services.gateway.build = { context: '../../gateway', dockerfile: 'Dockerfile' }
      },
      /build context \.\.\/\.\.\/gateway does not exist/,
    ],
    [
      'a missing Dockerfile',
      (c: Compose) => {
        c.services.gateway.build = { context: '../..', dockerfile: 'Dockerfile' }
      },
      /Dockerfile Dockerfile does not exist/,
    ],
    [
      'a healthcheck on the wrong port',
      (c: Compose) => {
        c.services['order-service'].healthcheck.test[3] = "fetch('http://127.0.0.1:9464/readyz')"
      },
      /order-service: healthcheck must be/,
    ],
    [
      'a service listening on loopback only',
      (c: Compose) => {
        c.services.gateway.environment.HOST = '127.0.0.1'
      },
      /gateway: HOST must be 0\.0\.0\.0/,
    ],
    [
      'an ADMIN_PORT off the contract',
      (c: Compose) => {
        c.services['notification-worker'].environment.ADMIN_PORT = '9464'
      },
      /ADMIN_PORT must be "9466"/,
    ],
    [
      'a URL to a host that is not a service',
      (c: Compose) => {
        c.services['order-service'].environment.DATABASE_URL = 'postgres://u:p@db:5432/orders'
      },
      /DATABASE_URL must point at service postgres port 5432/,
    ],
    [
      'a depends_on cycle',
      (c: Compose) => {
        c.services['order-service'].depends_on.gateway = { condition: 'service_started' }
      },
      /depends_on cycle/,
    ],
    [
      'a port published on every interface',
      (c: Compose) => {
        c.services.gateway.ports[0] = '8080:8080'
      },
      /port 8080:8080 is published on every interface/,
    ],
    [
      'a top-level version key',
      (c: Compose) => {
        c.version = '3.8'
      },
      /no top-level `version:`/,
    ],
  ])('catches %s', (_what, change, message) => {
    expect(broken(change)).toMatch(message)
  })
})

describe('Grafana provisioning', () => {
  const grafana = () => readCompose().services.grafana
  /** The host path mounted at a container path. */
  const hostPathOf = (target: string) => {
    const v = (grafana().volumes as string[]).find((x) => x.split(':')[1] === target)
    if (!v) throw new Error(`nothing mounted at ${target}`)
    return resolve(COMPOSE_DIR, v.split(':')[0]!)
  }

  it('provisions the Prometheus data source at the prometheus service, and Pyroscope', () => {
    const file = join(hostPathOf('/etc/grafana/provisioning/datasources'), 'datasources.yaml')
    const sources = parse(readFileSync(file, 'utf8')).datasources
    const services = readCompose().services
    for (const s of sources) {
      expect(new URL(s.url).hostname in services, s.url).toBe(true)
    }
    expect(sources.find((s: { type: string }) => s.type === 'prometheus')).toMatchObject({
      uid: 'prometheus',
      url: 'http://prometheus:9090',
      isDefault: true,
    })
    expect(sources.map((s: { type: string }) => s.type)).toContain('grafana-pyroscope-datasource')
  })

  it('loads the dashboards from the folder the compose file mounts, with panels on provisioned data sources', () => {
    const providerFile = join(hostPathOf('/etc/grafana/provisioning/dashboards'), 'dashboards.yaml')
    const provider = parse(readFileSync(providerFile, 'utf8')).providers[0]
    const dashboards = hostPathOf(provider.options.path)
    const sourcesFile = join(hostPathOf('/etc/grafana/provisioning/datasources'), 'datasources.yaml')
    const uids = parse(readFileSync(sourcesFile, 'utf8')).datasources.map((s: { uid: string }) => s.uid)
    const home = grafana().environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH
    const dashboard = JSON.parse(
      readFileSync(join(dashboards, home.slice(provider.options.path.length)), 'utf8'),
    )
    expect(dirname(home)).toBe(provider.options.path)
    expect(dashboard.uid).toBe('goreliable-example')
    const panels = dashboard.panels as {
      id: number
      type: string
      gridPos: object
      datasource?: { uid: string }
      targets?: { refId: string; datasource: { uid: string } }[]
    }[]
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length)
    for (const p of panels) {
      expect(p.gridPos).toMatchObject({
        h: expect.any(Number),
        w: expect.any(Number),
        x: expect.any(Number),
        y: expect.any(Number),
      })
      if (p.type === 'row') continue
      expect(uids).toContain(p.datasource?.uid)
      expect(p.targets?.length).toBeGreaterThan(0)
      for (const t of p.targets ?? []) expect(uids).toContain(t.datasource.uid)
      expect(new Set(p.targets?.map((t) => t.refId)).size).toBe(p.targets?.length)
    }
  })
})

describe('the README of examples/compose', () => {
  it('says how to run it and that it needs a Docker engine', () => {
    const readme = readFileSync(join(COMPOSE_DIR, 'README.md'), 'utf8')
    expect(readme).toContain('docker compose up --build')
    expect(readme).toMatch(/Docker engine/)
    expect(COMPOSE_FILE.endsWith('compose.yaml')).toBe(true)
  })
})
