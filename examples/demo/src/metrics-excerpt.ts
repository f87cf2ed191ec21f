// A few lines of a service's /metrics, to show in the demo's summary what the SDK exports.

/** The metric families the demo shows: request counts, pool connections, queue depth, breaker state. */
export const demoMetricFamilies = [
  'http_request_duration_seconds_count',
  'db_client_connections',
  'queue_depth_messages',
  'circuit_breaker_state',
] as const

/**
 * Fetches a Prometheus text exposition and keeps the samples whose metric name starts with one of the
 * families (so `db_client_connections` also keeps `db_client_connections_max`), at most `maxLines`.
 * Returns one line saying why when the scrape fails.
 */
export async function metricsExcerpt(
  metricsUrl: string,
  families: readonly string[] = demoMetricFamilies,
  maxLines = 8,
): Promise<string[]> {
  let text: string
  try {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) })
    if (!res.ok) return [`(GET ${metricsUrl} answered ${res.status})`]
    text = await res.text()
  } catch (error) {
    return [`(GET ${metricsUrl} failed: ${(error as Error).message})`]
  }
  const lines = text
    .split('\n')
    .filter((line) => line && !line.startsWith('#') && families.some((family) => line.startsWith(family)))
  if (lines.length === 0) return [`(none of ${families.join(', ')})`]
  return lines.length > maxLines
    ? [...lines.slice(0, maxLines), `... ${lines.length - maxLines} more`]
    : lines
}
