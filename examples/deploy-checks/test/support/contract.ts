// The contract between the deploy configs and the example services, in one place. Every config test reads
// it: a metric name, label, port or variable that a config uses must be here, and a service that changes one
// of these changes this file and the configs together.

/** Metric families the services export: type and label names (Prometheus adds job and instance). */
export const CONTRACT_METRICS = {
  http_request_duration_seconds: { type: 'histogram', labels: ['method', 'route', 'status_code'] },
  http_requests_in_flight: { type: 'gauge', labels: [] },
  http_requests_shed_total: { type: 'counter', labels: ['reason'] },
  circuit_breaker_state: { type: 'gauge', labels: ['name', 'state'] },
  circuit_breaker_events_total: { type: 'counter', labels: ['name', 'event'] },
  circuit_breaker_call_duration_seconds: { type: 'histogram', labels: ['name', 'outcome'] },
  db_client_connections: { type: 'gauge', labels: ['pool_name', 'state'] },
  db_client_connections_max: { type: 'gauge', labels: ['pool_name'] },
  db_client_connections_pending_requests: { type: 'gauge', labels: ['pool_name'] },
  db_client_connections_wait_time_seconds: { type: 'histogram', labels: ['pool_name'] },
  db_client_connections_use_time_seconds: { type: 'histogram', labels: ['pool_name'] },
  db_client_connections_timeouts_total: { type: 'counter', labels: ['pool_name'] },
  jetstream_consumer_num_pending: { type: 'gauge', labels: ['stream_name', 'consumer_name'] },
  jetstream_consumer_num_ack_pending: { type: 'gauge', labels: ['stream_name', 'consumer_name'] },
  queue_depth_messages: { type: 'gauge', labels: ['stream_name', 'consumer_name'] },
  nats_messages_total: { type: 'counter', labels: ['stream', 'consumer', 'outcome'] },
  nodejs_eventloop_utilization_ratio: { type: 'gauge', labels: [] },
} as const satisfies Record<string, { type: 'counter' | 'gauge' | 'histogram'; labels: readonly string[] }>

export type ContractMetric = keyof typeof CONTRACT_METRICS

/** Labels Prometheus itself attaches or derives: target labels, Kubernetes discovery labels, `le`. */
export const TARGET_LABELS = ['job', 'instance', 'namespace', 'pod', 'le'] as const

/**
 * The series names a query may use: counters and gauges by their name, classic histograms only through
 * `_bucket`, `_sum` and `_count` (the bare name of a histogram selects nothing).
 */
export function contractSeries(): Map<string, ContractMetric> {
  const series = new Map<string, ContractMetric>()
  for (const [name, { type }] of Object.entries(CONTRACT_METRICS) as [ContractMetric, { type: string }][]) {
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) series.set(name + suffix, name)
    else series.set(name, name)
  }
  return series
}

/** The four services: their ports and the environment each one needs. */
export const SERVICES = {
  gateway: {
    port: 8080,
    adminPort: 9464,
    env: ['HOST', 'PORT', 'ADMIN_PORT', 'ORDER_SERVICE_URLS', 'AUTH_CLIENTS', 'JWT_SECRET', 'LOG_LEVEL'],
  },
  'order-service': {
    port: 8081,
    adminPort: 9465,
    env: ['HOST', 'PORT', 'ADMIN_PORT', 'DATABASE_URL', 'NATS_URL', 'LOG_LEVEL'],
  },
  'notification-worker': {
    port: undefined,
    adminPort: 9466,
    env: ['HOST', 'ADMIN_PORT', 'NATS_URL', 'EMAIL_PROVIDER_URL', 'LOG_LEVEL'],
  },
  'email-provider': { port: 8082, adminPort: undefined, env: ['HOST', 'PORT', 'LOG_LEVEL'] },
} as const satisfies Record<
  string,
  { port: number | undefined; adminPort: number | undefined; env: readonly ServiceEnv[] }
>

export type ServiceName = keyof typeof SERVICES
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[]

/** Every variable a service reads. NODE_OPTIONS is read by Node itself. */
export const SERVICE_ENV = [
  'HOST',
  'PORT',
  'ADMIN_PORT',
  'DATABASE_URL',
  'NATS_URL',
  'ORDER_SERVICE_URLS',
  'ORDER_SERVICE_READY_URLS',
  'EMAIL_PROVIDER_URL',
  'AUTH_CLIENTS',
  'JWT_SECRET',
  'PYROSCOPE_URL',
  'LOG_LEVEL',
  'NODE_OPTIONS',
] as const
export type ServiceEnv = (typeof SERVICE_ENV)[number]

/**
 * The address the services listen on (main and admin ports). They default to 127.0.0.1, right for
 * `npm run demo`; in a container or a pod that would refuse other containers, Prometheus and the kubelet.
 */
export const LISTEN_HOST = '0.0.0.0'

/** The email provider has no admin port; `GET /control` answers whenever it runs (faults never touch it). */
export const EMAIL_PROVIDER_HEALTH_PATH = '/control'

/** Variables holding URLs of other services: the host must be a service of the stack, on the right port. */
export const URL_ENV = {
  DATABASE_URL: { service: 'postgres', port: 5432 },
  NATS_URL: { service: 'nats', port: 4222 },
  ORDER_SERVICE_URLS: { service: 'order-service', port: SERVICES['order-service'].port },
  // Readiness lives on the admin port.
  ORDER_SERVICE_READY_URLS: { service: 'order-service', port: SERVICES['order-service'].adminPort },
  EMAIL_PROVIDER_URL: { service: 'email-provider', port: SERVICES['email-provider'].port },
} as const satisfies Partial<Record<ServiceEnv, { service: string; port: number }>>

/** The admin port's endpoints. */
export const ADMIN_PATHS = {
  startup: '/startupz',
  readiness: '/readyz',
  liveness: '/livez',
  metrics: '/metrics',
}

/** The services' entry point inside the image built by examples/Dockerfile (whose entry point is node). */
export const entryPoint = (service: ServiceName) => `examples/${service}/dist/main.js`

/** JetStream names the worker consumes. */
export const JETSTREAM = { stream: 'ORDERS', subject: 'orders.created', consumer: 'notification-worker' }

/** Graceful shutdown: /readyz fails, 5 s of drain, then up to 10 s for in-flight work and closers. */
export const SHUTDOWN = { drainSeconds: 5, shutdownTimeoutSeconds: 10 }
