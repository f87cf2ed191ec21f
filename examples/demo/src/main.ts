// `npm run demo` runs this: `node examples/demo/dist/main.js [--once] [--orders=N] [--postgres=MODE] [--nats=MODE]`.

import { parseArgs } from 'node:util'
import { runDemo } from './demo.js'
import type { NatsMode } from './resolve-nats.js'
import type { PostgresMode } from './resolve-postgres.js'

const usage = `Usage: npm run demo -- [options]

Starts the example stack (gateway, order-service, notification-worker, email-provider) on 127.0.0.1,
sends a burst of orders and shows what happened. Ctrl-C stops everything.

  --once               stop after the summary; exit 0 when every order was created and notified
  --orders=N           orders in the burst (default 20)
  --postgres=MODE      auto | env | local | pglite   (default auto: DATABASE_URL, local, embedded PGlite)
  --nats=MODE          auto | env | local | spawn    (default auto: NATS_URL, local, private nats-server)
  --log-level=LEVEL    the services' LOG_LEVEL (default warn)
  -h, --help           this text
`

let values: ReturnType<typeof parse>['values']
function parse() {
  return parseArgs({
    options: {
      once: { type: 'boolean', default: false },
      orders: { type: 'string', default: '20' },
      postgres: { type: 'string', default: 'auto' },
      nats: { type: 'string', default: 'auto' },
      'log-level': { type: 'string', default: 'warn' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
}
try {
  values = parse().values
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n\n${usage}`)
  process.exit(2)
}
if (values.help) {
  process.stdout.write(usage)
  process.exit(0)
}
const orders = Number(values.orders)
const postgresModes = ['auto', 'env', 'local', 'pglite']
const natsModes = ['auto', 'env', 'local', 'spawn']
if (!Number.isInteger(orders) || orders < 1 || orders > 10_000)
  fail('--orders must be an integer from 1 to 10000')
if (!postgresModes.includes(values.postgres)) fail(`--postgres must be one of ${postgresModes.join(', ')}`)
if (!natsModes.includes(values.nats)) fail(`--nats must be one of ${natsModes.join(', ')}`)

process.exitCode = await runDemo({
  once: values.once,
  orders,
  postgres: { mode: values.postgres as PostgresMode },
  nats: { mode: values.nats as NatsMode },
  logLevel: values['log-level'],
})
// Exit even if a library left a handle open; everything the demo started is stopped by now.
process.exit()

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${usage}`)
  process.exit(2)
}
