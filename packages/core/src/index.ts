export type { Breaker, BreakerEvent, BreakerHealthCheck, CreateBreakerOptions } from './breaker.js'
export { BREAKER_EVENTS, createBreaker } from './breaker.js'
export * from './errors.js'
export type { FastHistogram, FastHistogramOptions, HistogramSeries } from './fast-histogram.js'
export { createFastHistogram, DURATION_BUCKETS_SECONDS } from './fast-histogram.js'
export type { CheckKind, CheckResult, Health, HealthCheck, HealthOptions, HealthReport } from './health.js'
export { createHealth, SHUTDOWN_CHECK_NAME } from './health.js'
export type { GoreliableHost } from './host.js'
export type { GenericPoolLike, InstrumentPoolOptions } from './instrument-pool.js'
export { instrumentPool } from './instrument-pool.js'
export type { CreateLoggerOptions } from './logger.js'
export { createLogger } from './logger.js'
export { perRegistry, registerOnce } from './metric-family.js'
export * as validate from './options.js'
export type { PoolMetrics, PoolMetricsOptions, PoolStats } from './pool-metrics.js'
export { createPoolMetrics } from './pool-metrics.js'
export type {
  Profiler,
  ProfilerLogger,
  ProfilerOptions,
  ProfilerStats,
  PyroscopeOptions,
} from './profiler.js'
export { createProfiler } from './profiler.js'
export type {
  QueueDepthGauge,
  QueueDepthGaugeOptions,
  QueueDepthResult,
  QueueDepthSample,
} from './queue-depth-gauge.js'
export { createQueueDepthGauge } from './queue-depth-gauge.js'
export type { RuntimeMetricsOptions } from './runtime-metrics.js'
export { registerBuildInfo, registerRuntimeMetrics } from './runtime-metrics.js'
export type {
  CloserEvent,
  ForcedEvent,
  Shutdown,
  ShutdownEvents,
  ShutdownLogger,
  ShutdownOptions,
  ShutdownResult,
  ShutdownStartEvent,
} from './shutdown.js'
export { createShutdown } from './shutdown.js'
export type { WithResourcePool } from './with-resource.js'
export { withResource } from './with-resource.js'
