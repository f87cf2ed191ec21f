// `npm run capacity`: starts the example stack on loopback, raises the offered load through the gateway in
// steps until p99 or the error rate breaks, and writes the capacity profile (Markdown, JSON, SVG). Usage:
// `--help`. Exit code 0 when the profile was written, 2 for a bad argument, 1 when the run itself failed.

import { runCapacityCommand } from './capacity-command.js'
import { runCommandMain } from './command-main.js'

await runCommandMain('capacity', runCapacityCommand)
