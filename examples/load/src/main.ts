// `npm run load`: the k6 scenario of k6/orders.js on autocannon. See README.md and `--help`.

import { parseCommand, usage } from './cli.js'
import { runLoad } from './run-load.js'
import { describeStages } from './stages.js'
import { evaluateThresholds, formatReport } from './thresholds.js'

/** k6's exit code when a threshold fails. */
const THRESHOLD_FAILED = 99

let command: ReturnType<typeof parseCommand>
try {
  command = parseCommand(process.argv.slice(2), process.env)
} catch (err) {
  console.error(`load: ${(err as Error).message}\n\n${usage}`)
  process.exit(1)
}
if (command.help) {
  console.log(usage)
  process.exit(0)
}

const o = command.options
console.log(
  `load: POST ${o.baseUrl}/api/v1/orders, stages ${describeStages(o.stages)}, ${o.ratePerConnection} request/s per connection`,
)
try {
  const stats = await runLoad({ ...o, log: (line) => console.log(`  ${line}`) })
  const results = evaluateThresholds(stats)
  console.log(`\n${formatReport(stats, results)}`)
  process.exit(results.every((r) => r.pass) ? 0 : THRESHOLD_FAILED)
} catch (err) {
  console.error(`load: ${(err as Error).message}`)
  process.exit(1)
}
