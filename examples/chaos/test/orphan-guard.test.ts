// The orphan guard: a command killed with SIGKILL must not leave the stack's processes running.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'

const guardModule = new URL('../dist/stack/orphan-guard.js', import.meta.url).href

// A stand-in for the chaos command: starts the guard and one detached process group (as the supervisor
// does), prints the group's pid, closes the guard cleanly if told to, and otherwise waits to be killed.
const command = (closeCleanly: boolean) => `
import { spawn } from 'node:child_process'
import { startOrphanGuard } from '${guardModule}'
const guard = startOrphanGuard()
const service = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { detached: true, stdio: 'ignore' })
guard.add(service.pid)
console.log(service.pid)
if (${closeCleanly}) { guard.close(); service.unref() } else setInterval(() => {}, 1000)
`

const started: number[] = []
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
})

async function run(closeCleanly: boolean): Promise<{ parent: ChildProcess; servicePid: number }> {
  const parent = spawn(process.execPath, ['--input-type=module', '-e', command(closeCleanly)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [line] = (await once(createInterface({ input: parent.stdout! }), 'line')) as [string]
  const servicePid = Number(line)
  started.push(servicePid)
  return { parent, servicePid }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('startOrphanGuard', () => {
  it('stops the groups it was told about when the command dies without cleaning up', async () => {
    const { parent, servicePid } = await run(false)
    expect(alive(servicePid)).toBe(true)
    parent.kill('SIGKILL')
    const deadline = Date.now() + 10_000
    while (alive(servicePid) && Date.now() < deadline) await sleep(100)
    expect(alive(servicePid)).toBe(false)
  })

  it('does nothing after a clean goodbye', async () => {
    const { parent, servicePid } = await run(true)
    await once(parent, 'exit')
    await sleep(500)
    expect(alive(servicePid)).toBe(true)
  })
})
