// Stand-in for the k6 module: check() runs and records every predicate, sleep() only records.
import { type K6Response, runtime } from './runtime.js'

export function check(res: K6Response, sets: Record<string, (r: K6Response) => boolean>): boolean {
  let all = true
  for (const [name, predicate] of Object.entries(sets)) {
    const passed = Boolean(predicate(res))
    runtime.checks.push({ name, passed })
    all &&= passed
  }
  return all
}

export function sleep(seconds: number): void {
  runtime.sleeps.push(seconds)
}
