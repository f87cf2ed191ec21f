import type { Registry } from 'prom-client'
import { InvalidOptionError } from './errors.js'

/**
 * Small validators for option objects. Each throws an InvalidOptionError naming the option, so a bad
 * option fails where it was written (at creation or register time), never later at request time.
 */

export function requireObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(name, 'an object', value)
  }
  return value as Record<string, unknown>
}

export function optionalObject(name: string, value: unknown): Record<string, unknown> | undefined {
  return value === undefined ? undefined : requireObject(name, value)
}

export function requireString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidOptionError(name, 'a non-empty string', value)
  }
  return value
}

export function optionalString(name: string, value: unknown, fallback: string): string
export function optionalString(name: string, value: unknown): string | undefined
export function optionalString(name: string, value: unknown, fallback?: string): string | undefined {
  return value === undefined ? fallback : requireString(name, value)
}

export function requireFunction<T extends (...args: never[]) => unknown>(name: string, value: unknown): T {
  if (typeof value !== 'function') throw new InvalidOptionError(name, 'a function', value)
  return value as T
}

export function optionalFunction<T extends (...args: never[]) => unknown>(
  name: string,
  value: unknown,
): T | undefined {
  return value === undefined ? undefined : requireFunction<T>(name, value)
}

export interface NumberBounds {
  min?: number
  max?: number
  integer?: boolean
}

export function requireNumber(name: string, value: unknown, bounds: NumberBounds = {}): number {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, integer = false } = bounds
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= min &&
    value <= max &&
    (!integer || Number.isInteger(value))
  if (!ok) {
    const kind = integer ? 'an integer' : 'a finite number'
    const upper = max === Number.MAX_SAFE_INTEGER ? '' : ` and <= ${max}`
    throw new InvalidOptionError(name, `${kind} >= ${min}${upper}`, value)
  }
  return value
}

export function optionalNumber(name: string, value: unknown, fallback: number, bounds?: NumberBounds): number
export function optionalNumber(
  name: string,
  value: unknown,
  fallback: undefined,
  bounds?: NumberBounds,
): number | undefined
export function optionalNumber(
  name: string,
  value: unknown,
  fallback: number | undefined,
  bounds?: NumberBounds,
): number | undefined {
  return value === undefined ? fallback : requireNumber(name, value, bounds)
}

export function optionalBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new InvalidOptionError(name, 'a boolean', value)
  return value
}

export function requireOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new InvalidOptionError(name, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value)
  }
  return value as T
}

/** Label names and metric names must match Prometheus' grammar, or the scrape output is broken. */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
export function requireMetricName(name: string, value: unknown): string {
  if (typeof value !== 'string' || !METRIC_NAME.test(value)) {
    throw new InvalidOptionError(name, 'a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)', value)
  }
  return value
}

/**
 * Rejects keys a factory does not know. A misspelt option (`timeout` for `timeoutMs`) would otherwise be
 * ignored silently and the default used; each factory exports its list of keys, and the docs test checks
 * that every one of them is documented.
 */
export function rejectUnknownKeys(
  where: string,
  options: Record<string, unknown>,
  known: readonly string[],
): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(
        `${where}${where ? '.' : ''}${key}`,
        `one of the known options (${known.join(', ')})`,
      )
    }
  }
}

/** Duck-typed so that a Registry from another copy of prom-client (a duplicate install) is accepted. */
export function requireRegistry(name: string, value: unknown): Registry {
  const r = value as Partial<Registry> | null | undefined
  if (typeof r?.registerMetric !== 'function' || typeof r.getSingleMetric !== 'function') {
    throw new InvalidOptionError(name, 'a prom-client Registry', value)
  }
  return value as Registry
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/**
 * Distinct Prometheus label names. `__` names are Prometheus' own (prom-client refuses them too); pass
 * `reserved` for names a metric type uses itself, such as a histogram's `le`.
 */
export function requireLabelNames(name: string, value: unknown, reserved: readonly string[] = []): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new InvalidOptionError(name, 'an array of label names', value)
  for (const [i, n] of value.entries()) {
    if (
      typeof n !== 'string' ||
      !LABEL_NAME.test(n) ||
      n.startsWith('__') ||
      reserved.includes(n) ||
      value.indexOf(n) !== i
    ) {
      const not = reserved.length ? ` other than ${reserved.map((r) => `"${r}"`).join(', ')}` : ''
      throw new InvalidOptionError(`${name}[${i}]`, `a distinct Prometheus label name${not}`, n)
    }
  }
  return [...value]
}
