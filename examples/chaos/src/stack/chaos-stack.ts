// The example stack as the chaos and capacity commands run it: every service a process of its own on
// 127.0.0.1 and free ports, a private nats-server (never the shared server's streams), the real PostgreSQL
// with a schema of this run's own (dropped at the end), and fault proxies in front of PostgreSQL and the
// email provider so that a dependency can fail without touching it.

import { randomBytes } from 'node:crypto'
import { createWriteStream, existsSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Writable } from 'node:stream'
import {
  createSupervisor,
  defaultEntries,
  ephemeralPort,
  type ResolvedNats,
  redact,
  resolveNats,
  resolvePostgres,
} from '@goreliable/example-demo'
import { createFaultProxy, type FaultProxy } from '../fault-proxy.js'
import { type EmailProviderClient, emailProviderClient } from './email-provider-client.js'
import { createTokenSource, STACK_CLIENT, STACK_TOKEN_TTL_SECONDS } from './gateway-token.js'
import { startOrphanGuard } from './orphan-guard.js'
import { createServiceProcess, type ServiceProcess, type ServiceProcessSpec } from './service-process.js'
import { createStackDatabase, type StackDatabase } from './stack-database.js'
import { createWorkerCpuStress, type WorkerCpuStress } from './worker-cpu-stress.js'

/** An order-service instance to run. */
export interface OrderServiceSpec {
  name: string
  /** Variables over the stack's (`DATABASE_POOL_MAX`, `NODE_OPTIONS`...). @default {} */
  env?: Record<string, string>
  /** Connect through this proxy to PostgreSQL instead of the stack's shared one. @default the shared proxy */
  databaseProxy?: FaultProxy
}

/** A gateway to run, and the order-service instances it forwards to. */
export interface GatewaySpec {
  name: string
  /** Names of order-service instances, in `ORDER_SERVICE_URLS` order. */
  upstreams: string[]
}

/** Options of {@link startChaosStack}. */
export interface ChaosStackOptions {
  orderServices: OrderServiceSpec[]
  gateways: GatewaySpec[]
  /** Where the services' output goes: a file path, or a stream. @default discarded */
  output?: string | Writable
  /** `LOG_LEVEL` of the services. @default 'warn' */
  logLevel?: string
  /** The PostgreSQL to use (a schema of the run's own is created in it). @default DATABASE_URL, else the local server's database `goreliable_demo` */
  databaseUrl?: string
  /** Progress lines. @default none */
  log?: (line: string) => void
  /** Preload the CPU stress into the worker, switched by `stack.workerCpuStress`. @default false */
  workerCpuStress?: boolean
}

/** The running stack. */
export interface ChaosStack {
  readonly databaseUrl: string
  readonly natsUrl: string
  readonly db: StackDatabase
  /** The proxy every order-service instance reaches PostgreSQL through (unless given its own). */
  readonly pgProxy: FaultProxy
  /** The proxy the worker reaches the email provider through. */
  readonly providerProxy: FaultProxy
  readonly provider: ServiceProcess
  readonly providerClient: EmailProviderClient
  readonly worker: ServiceProcess
  readonly orderServices: Map<string, ServiceProcess>
  readonly gateways: Map<string, ServiceProcess>
  /** The switch of the worker's CPU stress; undefined unless the stack was started with `workerCpuStress`. */
  readonly workerCpuStress: WorkerCpuStress | undefined
  /** A bearer token valid on every gateway (they share the secret), renewed when half its life is gone. */
  token(): string
  refreshToken(): Promise<void>
  /** Starts one more order-service instance (not behind any gateway), ready when it resolves. */
  addOrderService(spec: OrderServiceSpec): Promise<ServiceProcess>
  /** Another proxy to the same PostgreSQL, for an instance whose faults must not touch the others. */
  createDatabaseProxy(): Promise<FaultProxy>
  /** Stops every service (gateways first), the proxies, NATS; drops the schema. Safe to call twice. */
  stop(): Promise<void>
}

/**
 * How long an order-service instance keeps serving after SIGTERM with its readiness failing, before it
 * closes its port. The gateway polls each instance's /readyz every 2 s (healthCheckIntervalMs) with a 1 s
 * timeout, so 3.5 s lets it take the instance out of its rotation first, as the Kubernetes manifests' 5 s
 * drain lets the endpoints update. With 0, a request the gateway sends on a keep-alive connection while the
 * instance closes gets Fastify's own 503, which the gateway passes on.
 */
const ORDER_SERVICE_DRAIN_DELAY_MS = 3500

/** Starts the stack; on failure everything started so far is stopped before the error is thrown. */
export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const log = options.log ?? (() => {})
  const entries = defaultEntries()
  const missing = Object.entries(entries).filter(([, path]) => !existsSync(path))
  if (missing.length) {
    throw new Error(
      `not built: ${missing.map(([, p]) => p).join(', ')}; run \`npx turbo run build --filter=@goreliable/example-chaos...\``,
    )
  }
  const output = openOutput(options.output)
  const supervisor = createSupervisor({
    stdout: output.stream,
    stderr: output.stream,
    color: false,
    stopTimeoutMs: 15_000,
    onUnexpectedExit: (event) => {
      const service = all().find((s) => s.name === event.name)
      if (!service?.exitExpected)
        log(`${event.name} exited on its own (${event.signal ?? `code ${event.code}`})`)
    },
  })
  const guard = startOrphanGuard()
  const serviceProcess = (spec: ServiceProcessSpec) => createServiceProcess(supervisor, spec, guard)
  const proxies: FaultProxy[] = []
  const orderServices = new Map<string, ServiceProcess>()
  const gateways = new Map<string, ServiceProcess>()
  const all = () => [...gateways.values(), worker, ...orderServices.values(), provider].filter(Boolean)
  let nats: ResolvedNats | undefined
  let db: StackDatabase | undefined
  let worker!: ServiceProcess
  let provider!: ServiceProcess
  let stopping: Promise<void> | undefined
  let cpuStress: WorkerCpuStress | undefined

  const stop = () => {
    stopping ??= (async () => {
      // Callers before what they call, so nothing is cut off by its dependency going first.
      for (const service of all()) await service.stop('SIGTERM', 15_000).catch(() => undefined)
      await supervisor.stopAll()
      for (const proxy of proxies) await proxy.close()
      await nats?.close()
      cpuStress?.close()
      if (db) {
        await db
          .dropSchema()
          .catch((e) => log(`could not drop schema ${db?.schema}: ${(e as Error).message}`))
        await db.close()
      }
      if (output.owned) await new Promise<void>((resolve) => output.stream.end(resolve))
      guard.close()
    })()
    return stopping
  }

  try {
    // Never the embedded PGlite: its connections share one backend, so pools and partitions mean nothing there.
    const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL
    const postgres = await resolvePostgres({
      mode: databaseUrl ? 'env' : 'local',
      databaseUrl: databaseUrl ?? '',
      log: (l) => log(l),
    })
    const schema = `chaos_${randomBytes(4).toString('hex')}`
    db = createStackDatabase(postgres.url, schema)
    guard.schema(schema, postgres.url)
    const target = new URL(postgres.url)
    const createDatabaseProxy = async () => {
      const proxy = await createFaultProxy({
        targetHost: target.hostname || '127.0.0.1',
        targetPort: Number(target.port) || 5432,
      })
      proxies.push(proxy)
      return proxy
    }
    const viaProxy = (proxy: FaultProxy) => {
      const url = new URL(postgres.url)
      url.hostname = '127.0.0.1'
      url.port = String(proxy.port)
      return url.toString()
    }
    const pgProxy = await createDatabaseProxy()
    log(`PostgreSQL: ${redact(postgres.url)}, schema ${schema}, through a fault proxy on :${pgProxy.port}`)

    // A private server: the experiments fill and drain the stream ORDERS, which must not be the shared one's.
    nats = await resolveNats({ mode: 'spawn', log: (l) => log(l) })
    if (nats.pid !== undefined) guard.add(nats.pid)
    const natsUrl = nats.url
    const common = { HOST: '127.0.0.1', LOG_LEVEL: options.logLevel ?? 'warn' }
    const reliable = { ...common, SHUTDOWN_DRAIN_DELAY_MS: '0' }

    const providerPort = await ephemeralPort()
    provider = serviceProcess({
      name: 'email-provider',
      kind: 'email-provider',
      entry: entries['email-provider'],
      env: { ...common, PORT: String(providerPort) },
      url: `http://127.0.0.1:${providerPort}`,
      adminUrl: undefined,
      readyUrl: `http://127.0.0.1:${providerPort}/control`,
    })
    const providerProxy = await createFaultProxy({ targetHost: '127.0.0.1', targetPort: providerPort })
    proxies.push(providerProxy)

    const newOrderService = async (spec: OrderServiceSpec) => {
      const [port, adminPort] = [await ephemeralPort(), await ephemeralPort()]
      const service = serviceProcess({
        name: spec.name,
        kind: 'order-service',
        entry: entries['order-service'],
        env: {
          ...reliable,
          PORT: String(port),
          ADMIN_PORT: String(adminPort),
          DATABASE_URL: viaProxy(spec.databaseProxy ?? pgProxy),
          DATABASE_SCHEMA: schema,
          NATS_URL: natsUrl,
          SHUTDOWN_DRAIN_DELAY_MS: String(ORDER_SERVICE_DRAIN_DELAY_MS),
          ...spec.env,
        },
        url: `http://127.0.0.1:${port}`,
        adminUrl: `http://127.0.0.1:${adminPort}`,
        readyUrl: `http://127.0.0.1:${adminPort}/readyz`,
        readyTimeoutMs: 60_000,
      })
      orderServices.set(spec.name, service)
      return service
    }

    if (options.workerCpuStress) {
      cpuStress = createWorkerCpuStress({ file: join(tmpdir(), `goreliable-${schema}-cpu-stress.json`) })
    }
    const workerAdminPort = await ephemeralPort()
    worker = serviceProcess({
      name: 'notification-worker',
      kind: 'notification-worker',
      entry: entries['notification-worker'],
      env: {
        ...reliable,
        ADMIN_PORT: String(workerAdminPort),
        NATS_URL: natsUrl,
        EMAIL_PROVIDER_URL: `http://127.0.0.1:${providerProxy.port}`,
        ...cpuStress?.env,
      },
      url: undefined,
      adminUrl: `http://127.0.0.1:${workerAdminPort}`,
      readyUrl: `http://127.0.0.1:${workerAdminPort}/readyz`,
    })

    const jwtSecret = randomBytes(32).toString('hex')
    for (const spec of options.orderServices) await newOrderService(spec)
    for (const spec of options.gateways) {
      const upstreams = spec.upstreams.map((name) => {
        const service = orderServices.get(name)
        if (!service) throw new Error(`gateway ${spec.name}: no order service named ${name}`)
        return service
      })
      const [port, adminPort] = [await ephemeralPort(), await ephemeralPort()]
      gateways.set(
        spec.name,
        serviceProcess({
          name: spec.name,
          kind: 'gateway',
          entry: entries.gateway,
          env: {
            ...reliable,
            PORT: String(port),
            ADMIN_PORT: String(adminPort),
            ORDER_SERVICE_URLS: upstreams.map((u) => u.url).join(','),
            ORDER_SERVICE_READY_URLS: upstreams.map((u) => u.readyUrl).join(','),
            AUTH_CLIENTS: `${STACK_CLIENT.id}:${STACK_CLIENT.secret}`,
            JWT_SECRET: jwtSecret,
            TOKEN_TTL_SECONDS: String(STACK_TOKEN_TTL_SECONDS),
          },
          url: `http://127.0.0.1:${port}`,
          adminUrl: `http://127.0.0.1:${adminPort}`,
          readyUrl: `http://127.0.0.1:${adminPort}/readyz`,
        }),
      )
    }

    // Dependencies first; the order-service instances together (their migrations take turns on a lock).
    log('starting email-provider, order service, notification-worker, gateway')
    await provider.start()
    await Promise.all([...orderServices.values()].map((s) => s.start()))
    await worker.start()
    await Promise.all([...gateways.values()].map((g) => g.start()))
    for (const s of all()) log(`  ${s.name.padEnd(22)} ${s.url ?? '-'}  admin ${s.adminUrl ?? '-'}`)

    const tokens = createTokenSource(() => [...gateways.values()])
    if (gateways.size > 0) await tokens.refresh()

    return {
      databaseUrl: postgres.url,
      natsUrl,
      db,
      pgProxy,
      providerProxy,
      provider,
      providerClient: emailProviderClient(provider.url!),
      worker,
      orderServices,
      gateways,
      workerCpuStress: cpuStress,
      token: tokens.current,
      refreshToken: tokens.refresh,
      async addOrderService(spec) {
        const service = await newOrderService(spec)
        await service.start()
        return service
      },
      createDatabaseProxy,
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/** The services' output: a file of our own (closed at the end), the caller's stream, or nowhere. */
function openOutput(output: string | Writable | undefined): { stream: Writable; owned: boolean } {
  if (output === undefined) return { stream: new Writable({ write: (_c, _e, done) => done() }), owned: false }
  if (typeof output !== 'string') return { stream: output, owned: false }
  mkdirSync(dirname(output), { recursive: true })
  return { stream: createWriteStream(output, { flags: 'w' }), owned: true }
}
