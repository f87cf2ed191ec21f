// Where and at what priority the bench processes run.
//
// On two cores the load generator and the server compete for CPU, and the scheduler moves them around:
// pinning the servers to CPU 0 and the load generator to CPU 1 gives each side a core of its own, which
// makes the ratio between two servers steadier. Other work on the machine (builds, test suites) competes
// too, and with the kernel's autogroup scheduling (on by default) a process's nice value only ranks it
// within its own session: measured here, with two other sessions busy, the server and autocannon each got
// about 30% of their core and requests/s fell fourfold. So the bench runs in a session of its own whose
// autogroup is raised to nice -20 (needs root or CAP_SYS_NICE), and each process at nice -20 inside it.
// Each step is skipped where unavailable; GORELIABLE_BENCH_PIN=0 skips them all.
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'

const AUTOGROUP = '/proc/self/autogroup'

function works(command, args) {
  try {
    execFileSync(command, args, { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const off = process.env.GORELIABLE_BENCH_PIN === '0'
// cpus(), not availableParallelism(): the latter counts only the CPUs this process may run on, which is
// one once the bench has pinned itself.
const pin = !off && cpus().length >= 2 && works('taskset', ['-c', '0', 'true'])
const nice = !off && execNice() === '-20'
const session = !off && works('setsid', ['--wait', 'true'])

function execNice() {
  try {
    return execFileSync('nice', ['-n', '-20', 'nice'], { encoding: 'utf8' }).trim()
  } catch {
    return undefined
  }
}

export const placement = { serverCpu: '0', loadCpu: '1', description: describe() }

function describe() {
  if (off) return 'not pinned, default priority (GORELIABLE_BENCH_PIN=0)'
  let group = 'no autogroup'
  try {
    const line = readFileSync(AUTOGROUP, 'utf8').trim()
    group = `autogroup ${line.replace(/^.* nice /, 'nice ')}`
  } catch {}
  return [
    pin ? 'servers on CPU 0, autocannon on CPU 1' : 'not pinned',
    nice ? 'nice -20' : 'default nice',
    group,
  ].join(', ')
}

/** The command prefix that starts a process on `cpu` at the bench's priority. */
export function prefixFor(cpu) {
  return [...(nice ? ['nice', '-n', '-20'] : []), ...(pin ? ['taskset', '-c', cpu] : [])]
}

/**
 * Runs the calling script again in a session of its own, on the load generator's CPU and at the bench's
 * priority, unless it already is that run. Returns only in that run; the first exits with its exit code.
 */
export async function runPlaced() {
  if (off) return
  if (process.env.GORELIABLE_BENCH_PLACED === '1') {
    raiseAutogroup()
    placement.description = describe()
    return
  }
  const prefix = [...(session ? ['setsid', '--wait'] : []), ...prefixFor(placement.loadCpu)]
  if (prefix.length === 0) return
  const [command, ...args] = [...prefix, process.execPath, ...process.execArgv, ...process.argv.slice(1)]
  const child = spawn(command, args, {
    stdio: 'inherit',
    env: { ...process.env, GORELIABLE_BENCH_PLACED: '1' },
  })
  // A new session gets no Ctrl-C from the terminal: pass signals on.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
  const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))))
  process.exit(code)
}

/** Raises this session's autogroup to nice -20 where the kernel has autogroups and allows it. */
function raiseAutogroup() {
  try {
    writeFileSync(AUTOGROUP, '-20')
  } catch {
    // no autogroup scheduling here, or not allowed: nice inside the group is what remains
  }
}
