// `npm run load` options: flags and environment, with the k6 script's names where it has them.

import { parseArgs } from 'node:util'
import type { RunLoadOptions } from './run-load.js'
import { fullStages, laptopStages, parseDuration, parseStages } from './stages.js'

export const usage = `Usage: npm run load -- [options]

Runs the order-creation scenario of examples/load/k6/orders.js with autocannon, then prints each k6
threshold as PASS or FAIL. Exit code 0 when all pass, 99 when one fails (as k6), 1 when the run could not
start (no token).

Options:
  --full            the k6 timings: 2m up to 100 connections, 5m at 100, 1m down to 0 (8 minutes)
  --stages=LIST     custom stages, DURATION:TARGET comma-separated (default 20s:100,30s:100,10s:0)
  --rate=N          requests per second per connection (default 1, like the k6 script's think time)
  --timeout=DURATION  a request without an answer after this is failed (default 10s)
  --graceful-stop=DURATION  a connection still sending this long after its planned end is stopped
                    (default 30s, k6's gracefulRampDown)
  --url=URL         the gateway (default: GATEWAY_URL, else BASE_URL, else http://127.0.0.1:8080)
  --help            this text

Environment: GATEWAY_URL (or k6's BASE_URL), CLIENT_ID (default demo), CLIENT_SECRET (default demo-secret).`

/** What the command line asks for: the run's options, or help. */
export type Command = { help: true } | { help: false; options: Omit<RunLoadOptions, 'log'> }

/** Parses argv (without node and the script) and the environment; throws with a message on a bad value. */
export function parseCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Command {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      full: { type: 'boolean', default: false },
      stages: { type: 'string' },
      'graceful-stop': { type: 'string' },
      rate: { type: 'string' },
      timeout: { type: 'string' },
      url: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) return { help: true }
  if (values.full && values.stages !== undefined) throw new Error('--full and --stages exclude each other')
  const stages =
    values.stages !== undefined ? parseStages(values.stages) : values.full ? fullStages : laptopStages
  const gracefulStopSeconds = seconds('--graceful-stop', values['graceful-stop'] ?? '30s')
  const timeoutSeconds = seconds('--timeout', values.timeout ?? '10s')
  const ratePerConnection = Number(values.rate ?? 1)
  if (!(ratePerConnection > 0) || ratePerConnection > 10_000) {
    throw new Error(`--rate must be a number of requests per second above 0, got "${values.rate}"`)
  }
  const rawUrl = values.url ?? nonEmpty(env.GATEWAY_URL) ?? nonEmpty(env.BASE_URL) ?? 'http://127.0.0.1:8080'
  let url: URL
  try {
    url = new URL(rawUrl)
  } catch {
    throw new Error(`the gateway URL is not a URL: "${rawUrl}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`the gateway URL must be http(s): "${rawUrl}"`)
  }
  return {
    help: false,
    options: {
      baseUrl: rawUrl.replace(/\/+$/, ''),
      clientId: nonEmpty(env.CLIENT_ID) ?? 'demo',
      clientSecret: nonEmpty(env.CLIENT_SECRET) ?? 'demo-secret',
      stages,
      gracefulStopSeconds,
      ratePerConnection,
      timeoutSeconds,
    },
  }
}

function seconds(flag: string, text: string): number {
  const s = parseDuration(text)
  if (!(s > 0)) throw new Error(`${flag} must be a duration such as 2s or 1m, got "${text}"`)
  return s
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}
