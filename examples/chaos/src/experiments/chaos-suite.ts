// The chaos suite of `npm run chaos`: the stack it needs and its experiments in order.

import type { Experiment } from '../experiment.js'
import type { ProfileName } from '../profiles.js'
import { type ChaosStack, type ChaosStackOptions, startChaosStack } from '../stack/chaos-stack.js'
import { databasePartition } from './database-partition.js'
import { killOneInstance, killOneOfTwo } from './order-service-killed.js'
import { poolExhaustion } from './pool-exhaustion.js'
import { providerOutage } from './provider-outage.js'
import { rollingRestart } from './rolling-restart.js'
import { runInvariants } from './run-invariants.js'
import { SUITE_SERVICES, type Suite } from './suite.js'

/** The stack of the chaos suite: two order-service instances, a gateway in front of one and one of both. */
export function chaosStackOptions(
  options: Pick<ChaosStackOptions, 'output' | 'log' | 'logLevel' | 'databaseUrl'>,
): ChaosStackOptions {
  return {
    ...options,
    workerCpuStress: true,
    orderServices: [{ name: SUITE_SERVICES.orderServiceA }, { name: SUITE_SERVICES.orderServiceB }],
    gateways: [
      { name: SUITE_SERVICES.gatewaySingle, upstreams: [SUITE_SERVICES.orderServiceA] },
      {
        name: SUITE_SERVICES.gatewayPair,
        upstreams: [SUITE_SERVICES.orderServiceA, SUITE_SERVICES.orderServiceB],
      },
    ],
  }
}

/** Starts the suite's stack. */
export async function startSuite(
  profile: ProfileName,
  options: Pick<ChaosStackOptions, 'output' | 'log' | 'logLevel' | 'databaseUrl'>,
): Promise<Suite> {
  const stack: ChaosStack = await startChaosStack(chaosStackOptions(options))
  const get = (map: Map<string, Suite['gatewaySingle']>, name: string) => {
    const service = map.get(name)
    if (!service) throw new Error(`the stack has no ${name}`)
    return service
  }
  return {
    stack,
    profile,
    gatewaySingle: get(stack.gateways, SUITE_SERVICES.gatewaySingle),
    gatewayPair: get(stack.gateways, SUITE_SERVICES.gatewayPair),
    orderServiceA: get(stack.orderServices, SUITE_SERVICES.orderServiceA),
    orderServiceB: get(stack.orderServices, SUITE_SERVICES.orderServiceB),
  }
}

/** The names of {@link chaosExperiments}, in order (what `--only` accepts). */
export const CHAOS_EXPERIMENT_NAMES = [
  'order-service-killed',
  'order-service-killed-of-two',
  'postgres-partition',
  'provider-outage-cpu-stress',
  'rolling-restart',
  'pool-exhaustion',
  'run-invariants',
] as const

/** The experiments of the issue, in the order they run. */
export function chaosExperiments(suite: Suite): Experiment[] {
  return [
    killOneInstance(suite),
    killOneOfTwo(suite),
    databasePartition(suite),
    providerOutage(suite),
    rollingRestart(suite),
    poolExhaustion(suite),
    runInvariants(suite),
  ]
}
