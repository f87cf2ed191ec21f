// The scenario's shape: k6 stages (ramp linearly to a target of virtual users over a duration), turned into
// what autocannon can run. autocannon keeps its connection count fixed for a whole run, so each virtual user
// becomes a connection slot of its own: one autocannon run of one connection, started when the ramp reaches
// it and sending its share of requests until the ramp goes below it again.

/** One k6 stage: move linearly to `target` virtual users (here: connections) over `durationSeconds`. */
export interface Stage {
  durationSeconds: number
  target: number
}

/** One virtual user's life: a connection from `startSeconds` on, sending `requests` requests. */
export interface Slot {
  startSeconds: number
  durationSeconds: number
  /** The requests it sends: its lifetime times the rate per connection, rounded. */
  requests: number
}

/** The k6 script's stages (examples/load/k6/orders.js): 2 minutes up to 100, 5 minutes at 100, 1 down. */
export const fullStages: readonly Stage[] = Object.freeze([
  { durationSeconds: 120, target: 100 },
  { durationSeconds: 300, target: 100 },
  { durationSeconds: 60, target: 0 },
])

/** The same shape scaled down for a laptop: one minute in all. */
export const laptopStages: readonly Stage[] = Object.freeze([
  { durationSeconds: 20, target: 100 },
  { durationSeconds: 30, target: 100 },
  { durationSeconds: 10, target: 0 },
])

/** Parses k6-style durations: `90`, `90s`, `2m`, `1m30s`, `500ms`. Returns seconds, or NaN. */
export function parseDuration(text: string): number {
  const m = /^(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)(s|ms)?)?$/.exec(text.trim())
  if (m === null || text.trim() === '' || (m[1] === undefined && m[2] === undefined)) return Number.NaN
  const minutes = m[1] === undefined ? 0 : Number(m[1])
  const rest = m[2] === undefined ? 0 : Number(m[2]) / (m[3] === 'ms' ? 1000 : 1)
  return minutes * 60 + rest
}

/** Parses `20s:100,30s:100,10s:0` (duration:target, comma-separated). Throws on a bad stage. */
export function parseStages(text: string): Stage[] {
  const stages = text.split(',').map((part) => {
    const [duration, target, extra] = part.split(':')
    const durationSeconds = parseDuration(duration ?? '')
    const t = Number(target)
    if (extra !== undefined || !(durationSeconds > 0) || !Number.isInteger(t) || t < 0 || t > 1000) {
      throw new Error(`bad stage "${part}": expected DURATION:TARGET such as 20s:100 or 2m:100`)
    }
    return { durationSeconds, target: t }
  })
  return stages
}

/**
 * The connection slots of `stages`: slot k (1 to the highest target) is alive while the linear ramp is at
 * k - 0.5 or more (so the ramp's value, rounded, counts the live slots), and sends one request per
 * `1 / ratePerConnection` seconds of its life. Counting requests instead of timing each run means no run is
 * cut with a request in flight: cutting would drop the slowest requests, exactly the ones p(99) is about.
 */
export function planSlots(stages: readonly Stage[], ratePerConnection: number): Slot[] {
  const slots: Slot[] = []
  const highest = Math.max(0, ...stages.map((s) => s.target))
  const add = (from: number, to: number) => {
    const requests = Math.round((to - from) * ratePerConnection)
    if (requests > 0) slots.push({ startSeconds: from, durationSeconds: to - from, requests })
  }
  for (let k = 1; k <= highest; k++) {
    const level = k - 0.5
    let t = 0
    let value = 0
    let openedAt: number | undefined
    for (const stage of stages) {
      const [a, b, t0, t1] = [value, stage.target, t, t + stage.durationSeconds]
      const at = (v: number) => t0 + ((v - a) / (b - a)) * stage.durationSeconds
      // The part of this stage where the ramp is at `level` or above: all, a tail, a head, or nothing.
      const part: [number, number] | undefined =
        a >= level && b >= level
          ? [t0, t1]
          : a < level && b >= level
            ? [at(level), t1]
            : a >= level
              ? [t0, at(level)]
              : undefined
      if (part === undefined) {
        if (openedAt !== undefined) add(openedAt, t0)
        openedAt = undefined
      } else {
        openedAt ??= part[0]
        if (part[1] < t1) {
          add(openedAt, part[1])
          openedAt = undefined
        }
      }
      t = t1
      value = b
    }
    if (openedAt !== undefined) add(openedAt, t)
  }
  return slots.sort((x, y) => x.startSeconds - y.startSeconds)
}

/** Total length of the stages, in seconds. */
export function totalSeconds(stages: readonly Stage[]): number {
  return stages.reduce((sum, s) => sum + s.durationSeconds, 0)
}

/** `20s→100, 30s→100, 10s→0` */
export function describeStages(stages: readonly Stage[]): string {
  return stages.map((s) => `${formatSeconds(s.durationSeconds)}→${s.target}`).join(', ')
}

export function formatSeconds(seconds: number): string {
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60}m`
  return `${Math.round(seconds * 10) / 10}s`
}
