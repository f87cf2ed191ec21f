// What the demo prints once the stack is up: the URLs, the burst's outcome, and a few metric lines.

import { metricsExcerpt } from './metrics-excerpt.js'
import { sendOrderBurst } from './order-burst.js'
import type { ResolvedNats } from './resolve-nats.js'
import type { ResolvedPostgres } from './resolve-postgres.js'
import { type StackPorts, stackUrls } from './services.js'
import { waitForDeliveries } from './wait-for-deliveries.js'

type Print = (line?: string) => void

/** Prints where everything runs. */
export function printStack(
  print: Print,
  postgres: ResolvedPostgres,
  nats: ResolvedNats,
  ports: StackPorts,
): void {
  const urls = stackUrls(ports)
  print()
  print(`PostgreSQL  ${postgres.description}`)
  print(`NATS        ${nats.description}`)
  print(`gateway               ${urls.gateway}   (admin ${urls.gatewayAdmin}/metrics)`)
  print(`order-service         ${urls.orderService}   (admin ${urls.orderServiceAdmin}/metrics)`)
  print(`notification-worker   (no public port)   (admin ${urls.notificationWorkerAdmin}/metrics)`)
  print(`email-provider        ${urls.emailProvider}   (deliveries ${urls.emailProvider}/v1/messages)`)
}

/** Prints commands a person can paste to try the stack by hand. */
export function printTryIt(print: Print, ports: StackPorts): void {
  const urls = stackUrls(ports)
  print()
  print('Try it:')
  print(
    `  TOKEN=$(curl -s -X POST ${urls.gateway}/auth/token -H 'content-type: application/json' -d '{"client_id":"demo","client_secret":"demo-secret"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
  )
  print(
    `  curl -s -X POST ${urls.gateway}/api/v1/orders -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -H "idempotency-key: $(node -pe 'crypto.randomUUID()')" -d '{"amount":4200,"currency":"EUR"}'`,
  )
  print(
    `  curl -s -X PUT ${urls.emailProvider}/control -H 'content-type: application/json' -d '{"outage":true}'`,
  )
}

/**
 * Sends the burst, waits for the notifications, prints the summary and the metric lines; true when every
 * order was created, the retry returned the same order, and every notification arrived.
 */
export async function burstAndSummary(
  print: Print,
  ports: StackPorts,
  orders: number,
  deliveryTimeoutMs: number,
): Promise<boolean> {
  const urls = stackUrls(ports)
  print()
  print(`Sending ${orders} orders through the gateway...`)
  let burst: Awaited<ReturnType<typeof sendOrderBurst>>
  try {
    burst = await sendOrderBurst({ gatewayUrl: urls.gateway, orders })
  } catch (error) {
    print(`  ${(error as Error).message}`)
    return false
  }
  const keys = burst.created.map((o) => o.id)
  const deliveries = await waitForDeliveries(urls.emailProvider, keys, deliveryTimeoutMs)

  print(`  orders created            ${burst.created.length}/${burst.requested}`)
  for (const failure of burst.failures.slice(0, 3)) print(`    failed: ${failure.status} ${failure.message}`)
  if (burst.retryReturnedSameId !== null) {
    print(
      `  idempotent retry          ${burst.retryReturnedSameId ? 'same order id (nothing new created)' : 'a DIFFERENT id'}`,
    )
  }
  print(`  notifications delivered   ${deliveries.delivered}/${keys.length}`)
  if (deliveries.stats) {
    const s = deliveries.stats
    print(
      `  provider attempts         ${s.requests} (delivered ${s.delivered}, replayed ${s.replayed}, failed ${s.injectedErrors + s.outageRejections})`,
    )
  }
  if (deliveries.missing.length)
    print(`  still missing after the wait: ${deliveries.missing.slice(0, 5).join(', ')}`)

  print()
  print('Metrics (a few lines each):')
  const admins: [string, string][] = [
    ['gateway', urls.gatewayAdmin],
    ['order-service', urls.orderServiceAdmin],
    ['notification-worker', urls.notificationWorkerAdmin],
  ]
  for (const [name, admin] of admins) {
    print(`  ${name}  ${admin}/metrics`)
    for (const line of await metricsExcerpt(`${admin}/metrics`)) print(`    ${line}`)
  }
  return (
    burst.created.length === burst.requested &&
    deliveries.missing.length === 0 &&
    burst.retryReturnedSameId !== false
  )
}
