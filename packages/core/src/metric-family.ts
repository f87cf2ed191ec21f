import type { Metric, Registry } from 'prom-client'

/**
 * Returns the metric already registered under `name` in `registry`, or registers the one `create` builds.
 * Several breakers, pools or plugins share one metric family per registry, and registering twice must never
 * throw (prom-client's own constructors do throw on a duplicate name).
 */
export function registerOnce<T extends Metric>(registry: Registry, name: string, create: () => T): T {
  const existing = registry.getSingleMetric(name)
  if (existing) return existing as T
  const metric = create()
  registry.registerMetric(metric)
  return metric
}

/**
 * State shared by every instance of one kind (every breaker, every pool) that reports into one registry:
 * the set of live sources that a family's scrape-time `collect()` reads. Keyed by the user's registry, so
 * there is no process-wide registry and a discarded registry takes its state with it.
 */
export function perRegistry<T>(): (registry: Registry, create: () => T) => T {
  const byRegistry = new WeakMap<Registry, T>()
  return (registry, create) => {
    let value = byRegistry.get(registry)
    if (value === undefined) {
      value = create()
      byRegistry.set(registry, value)
    }
    return value
  }
}
