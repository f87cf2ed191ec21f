// The two ways the suite loads a service's CPU from inside it, with preloads: the worker's CPU stress,
// switched on and off through a command file, and the order service's CPU-heavy requests (`--cpu-heavy`).
// Both need the built package (the preloads run from dist/).
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createWorkerCpuStress } from '../src/stack/worker-cpu-stress.js'

const children: ChildProcess[] = []
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** CPU seconds `pid` spends over the next `ms` milliseconds. */
async function cpuOver(pid: number, ms: number): Promise<number> {
  const before = cpuSeconds(pid)
  await sleep(ms)
  return cpuSeconds(pid) - before
}

describe('worker CPU stress (worker-cpu-stress-preload)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-stress-test-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  // An idle process with the preload, as the stack starts the worker: only the switch makes it busy.
  function stressedProcess(name: string) {
    const stress = createWorkerCpuStress({ file: join(dir, `${name}.json`) })
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      env: { ...process.env, ...stress.env },
      stdio: 'ignore',
    })
    children.push(child)
    return { stress, pid: child.pid! }
  }

  it('burns the share asked of the process it is loaded into, and nothing while off', async () => {
    const { stress, pid } = stressedProcess('share')
    await sleep(500)
    expect(await cpuOver(pid, 1000)).toBeLessThan(0.2)
    stress.start({ loadPercent: 80, maxMs: 20_000 })
    await sleep(400)
    // 80% of a second of its own event loop; generous bounds for a shared two-core machine.
    const busy = await cpuOver(pid, 1000)
    expect(busy).toBeGreaterThan(0.5)
    expect(busy).toBeLessThan(1.05)
    stress.stop()
    await sleep(400)
    expect(await cpuOver(pid, 1000)).toBeLessThan(0.2)
    stress.close()
  })

  it('stops by itself at its deadline when nobody stops it', async () => {
    const { stress, pid } = stressedProcess('deadline')
    await sleep(500)
    stress.start({ loadPercent: 80, maxMs: 1500 })
    await sleep(500)
    expect(await cpuOver(pid, 500)).toBeGreaterThan(0.2)
    await sleep(1000)
    expect(await cpuOver(pid, 1000)).toBeLessThan(0.2)
    stress.close()
  })
})

/** User plus system CPU seconds of a process, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

describe('cpu-heavy-preload', () => {
  it('burns CHAOS_CPU_BURN_MS on every /api request and leaves the other routes alone', async () => {
    const preload = fileURLToPath(new URL('../dist/cpu-heavy-preload.js', import.meta.url))
    const server = spawn(
      process.execPath,
      [
        '-e',
        `require('node:http').createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', function () { console.log(this.address().port) })`,
      ],
      {
        env: { ...process.env, NODE_OPTIONS: `--import=${preload}`, CHAOS_CPU_BURN_MS: '60' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    children.push(server)
    const [line] = (await once(createInterface({ input: server.stdout! }), 'line')) as [string]
    const base = `http://127.0.0.1:${line.trim()}`
    const timed = async (path: string) => {
      const start = performance.now()
      await (await fetch(`${base}${path}`)).text()
      return performance.now() - start
    }
    await timed('/metrics')
    const api = await timed('/api/v1/orders')
    const other = await timed('/metrics')
    expect(api).toBeGreaterThanOrEqual(60)
    expect(other).toBeLessThan(api)
  })
})
