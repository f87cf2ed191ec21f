export { allocatePorts } from './allocate-ports.js'
export { type RunDemoOptions, runDemo, runDemoOptionKeys } from './demo.js'
export { DemoError, type DemoErrorCode, DemoErrorCodes } from './errors.js'
export { demoMetricFamilies, metricsExcerpt } from './metrics-excerpt.js'
export { canConnect, ephemeralPort, isPortFree, type NatsInfo, readNatsInfo } from './net-probe.js'
export {
  type CreatedOrder,
  type OrderBurstOptions,
  type OrderBurstResult,
  sendOrderBurst,
} from './order-burst.js'
export {
  findNatsServer,
  firstHostPort,
  howToGetNats,
  type NatsMode,
  type ResolvedNats,
  type ResolveNatsOptions,
  resolveNats,
  resolveNatsOptionKeys,
} from './resolve-nats.js'
export {
  type PostgresMode,
  type ResolvedPostgres,
  type ResolvePostgresOptions,
  redact,
  resolvePostgres,
  resolvePostgresOptionKeys,
} from './resolve-postgres.js'
export {
  defaultEntries,
  defaultPorts,
  readinessUrls,
  type ServiceName,
  type StackConfig,
  type StackPorts,
  serviceNames,
  stackEnv,
  stackSpecs,
  stackUrls,
} from './services.js'
export {
  createSupervisor,
  createSupervisorOptionKeys,
  type ExitEvent,
  type ServiceHandle,
  type ServiceSpec,
  type StopResult,
  type Supervisor,
  type SupervisorOptions,
} from './supervisor.js'
export { type DeliveryReport, waitForDeliveries } from './wait-for-deliveries.js'
