// Readers of one environment variable each: a blank value counts as unset, and a malformed one throws a
// ConfigError that names the variable, before anything starts.

import { ConfigError } from './config-error.js'

/** The environment, as `process.env`. */
export type Env = Record<string, string | undefined>

/** The trimmed value, or undefined when unset or blank. */
export function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

/** A whole number from `min` to `max`, or undefined when unset. */
export function integer(env: Env, name: string, min: number, max: number): number | undefined {
  const value = text(env, name)
  if (value === undefined) return undefined
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new ConfigError(name, `an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return n
}

/** A comma-separated list, blanks dropped; empty when unset. */
export function list(env: Env, name: string): string[] {
  return (text(env, name) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

/** A comma-separated list of http(s) URLs; empty when unset. */
export function urlList(env: Env, name: string): string[] {
  const urls = list(env, name)
  for (const url of urls) {
    if (!/^https?:\/\/[^\s/]+/.test(url))
      throw new ConfigError(name, `not an http(s) URL: ${JSON.stringify(url)}`)
  }
  return urls
}
