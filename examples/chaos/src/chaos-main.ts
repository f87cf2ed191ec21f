// `npm run chaos`: starts the example stack on loopback (a private nats-server, the local PostgreSQL with a
// schema of its own, fault proxies in front of PostgreSQL and the email provider), runs the experiments
// under load, prints the table, writes it as Markdown and JSON, stops everything, and exits 1 when an
// expectation failed (2 for a bad argument). Usage: `--help`.

import { runChaosCommand } from './chaos-command.js'
import { runCommandMain } from './command-main.js'

await runCommandMain('chaos', runChaosCommand)
