// The example stack for the end-to-end tests: the email provider, the order service and the gateway
// in-process (each on free loopback ports, stopped the way SIGTERM stops them), the notification worker
// as the process it is in production (`node examples/notification-worker/dist/main.js`), all on the real
// PostgreSQL (a schema of this run's own) and a private nats-server.

import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createEmailProvider } from '@goreliable/example-email-provider'
import { createGateway } from '@goreliable/example-gateway'
import { createOrderService } from '@goreliable/example-order-service'
import type { FastifyInstance } from 'fastify'
import { freePort } from './net.js'

/** The worker's entry; the worker is part of the run when it has been built. */
export const workerEntry = fileURLToPath(
  new URL('../../../notification-worker/dist/main.js', import.meta.url),
)

export const CLIENT = { id: 'e2e', secret: 'e2e-secret' }

export interface Service {
  url: string
  adminUrl: string
  stop(): Promise<void>
}

export interface Stack {
  gateway: Service & { app: FastifyInstance }
  orderService: Service & { app: FastifyInstance }
  provider: { url: string; stop(): Promise<void> }
  /** Undefined when examples/notification-worker has not been built. */
  worker: { adminUrl: string; stop(): Promise<number | null>; output(): string } | undefined
  jwtSecret: string
  schema: string
  stop(): Promise<void>
}

/** Starts a Fastify app built by a @goreliable/fastify service factory on free ports. */
async function listen(app: FastifyInstance): Promise<Service & { app: FastifyInstance }> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  let stopping: Promise<void> | undefined
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${app.goreliable.adminAddress()?.port}`,
    stop: () => {
      stopping ??= app.goreliable.shutdown.shutdown('test').then(() => undefined)
      return stopping
    },
  }
}

const quiet = () => ({
  admin: { port: 0, host: '127.0.0.1' },
  shutdown: { signals: [] as NodeJS.Signals[], exit: () => undefined },
})

export async function startStack(options: { databaseUrl: string; natsUrl: string }): Promise<Stack> {
  const schema = `e2e_${randomBytes(4).toString('hex')}`
  const jwtSecret = randomBytes(32).toString('hex')

  const providerApp = createEmailProvider()
  await providerApp.listen({ port: 0, host: '127.0.0.1' })
  const provider = {
    url: `http://127.0.0.1:${(providerApp.server.address() as { port: number }).port}`,
    stop: () => providerApp.close(),
  }

  const orderService = await listen(
    await createOrderService({
      databaseUrl: options.databaseUrl,
      databaseSchema: schema,
      natsUrl: options.natsUrl,
      outboxPollIntervalMs: 200,
      logLevel: 'silent',
      goreliable: quiet(),
    }),
  )

  let worker: Stack['worker']
  if (existsSync(workerEntry)) worker = await startWorker(options.natsUrl, provider.url)

  const gateway = await listen(
    await createGateway({
      orderServiceUrls: [orderService.url],
      orderServiceReadyUrls: [`${orderService.adminUrl}/readyz`],
      authClients: { [CLIENT.id]: CLIENT.secret },
      jwtSecret,
      healthCheckIntervalMs: 500,
      logLevel: 'silent',
      goreliable: quiet(),
    }),
  )

  return {
    gateway,
    orderService,
    provider,
    worker,
    jwtSecret,
    schema,
    async stop() {
      await gateway.stop()
      await worker?.stop()
      await orderService.stop()
      await provider.stop()
    },
  }
}

/** Runs the worker's entry point with the environment of the contract, and waits for its readiness. */
async function startWorker(natsUrl: string, providerUrl: string): Promise<NonNullable<Stack['worker']>> {
  const adminPort = await freePort()
  const child: ChildProcess = spawn(process.execPath, [workerEntry], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      ADMIN_PORT: String(adminPort),
      NATS_URL: natsUrl,
      EMAIL_PROVIDER_URL: providerUrl,
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (d) => {
    output += d
  })
  child.stderr?.on('data', (d) => {
    output += d
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const adminUrl = `http://127.0.0.1:${adminPort}`
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the notification worker exited at start:\n${output}`)
    const status = await fetch(`${adminUrl}/readyz`).then(
      (r) => r.status,
      () => 0,
    )
    if (status === 200) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the notification worker was not ready within 30 s:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    adminUrl,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      const code = await exited
      clearTimeout(timer)
      return code
    },
  }
}
