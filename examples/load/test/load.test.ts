// `npm run load` end to end, as a second process against a stand-in gateway on 127.0.0.1: the thresholds
// pass against a healthy server and fail, with k6's exit code, against one that errors on 5% of orders.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { type StandIn, startStandIn } from './standin.js'

const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url))
/** About 4 s of load at up to 10 connections x 20 requests/s: 600 orders. */
const SHORT = ['--stages=1s:10,2s:10,1s:0', '--rate=20']

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function runLoad(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    // A bound for a hung run: the scenario itself lasts about 4 s.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

const line = (out: string, metric: string) => out.split('\n').find((l) => l.includes(` ${metric} `)) ?? ''

describe('npm run load against a stand-in gateway', () => {
  let server: StandIn | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  it('passes every threshold against a healthy server and exits 0', async () => {
    server = await startStandIn()
    const run = await runLoad(SHORT, { GATEWAY_URL: server.url })
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(line(run.stdout, 'http_req_failed')).toMatch(
      /^\s+PASS {2}http_req_failed rate<0\.01 +0% \(limit 1%\)$/,
    )
    expect(line(run.stdout, 'http_req_duration')).toMatch(/PASS {2}http_req_duration p\(99\)<500/)
    expect(line(run.stdout, 'order_errors')).toMatch(/PASS {2}order_errors rate<0\.005 +0% \(limit 0\.5%\)/)
    // The scenario as the k6 script sends it: one token, every order authorised, its own key, a valid body.
    expect(server.seen.tokens).toBe(1)
    expect(server.seen).toMatchObject({ orders: 600, withoutToken: 0, badBodies: 0, duplicateKeys: 0 })
    // Every order sent was measured: no run was cut with a request in flight.
    expect(run.stdout).toContain('requests   600 in')
    expect(run.stdout).toContain('201: 600')
  })

  it('fails http_req_failed and order_errors against 5% errors, exits 99', async () => {
    server = await startStandIn({ errorEvery: 20 })
    const run = await runLoad(SHORT, { BASE_URL: server.url })
    expect(run.code).toBe(99)
    expect(line(run.stdout, 'http_req_failed')).toMatch(
      /FAIL {2}http_req_failed rate<0\.01 +[45](\.\d+)?% \(limit 1%\)/,
    )
    expect(line(run.stdout, 'order_errors')).toMatch(/FAIL {2}order_errors/)
    // Latency is fine: only the failing thresholds fail.
    expect(line(run.stdout, 'http_req_duration')).toMatch(/PASS {2}http_req_duration/)
    expect(run.stdout).toContain('500: ')
  })

  it('stops with exit 1 and the gateway answer when the token is refused', async () => {
    server = await startStandIn({ refuseTokens: true })
    const run = await runLoad(SHORT, { GATEWAY_URL: server.url })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('/auth/token answered 401')
    expect(server.seen.orders).toBe(0)
  })

  it('stops with exit 1 and the usage on a bad flag', async () => {
    const run = await runLoad(['--stages=fast'], {})
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('bad stage "fast"')
    expect(run.stderr).toContain('Usage: npm run load')
  })
})
