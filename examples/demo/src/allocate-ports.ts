// Picks the demo's ports: the well-known ones when they are free, other free ones when not.

import { ephemeralPort, isPortFree } from './net-probe.js'

/**
 * Returns, for each name, its preferred port when that can be bound on host, else a free ephemeral one.
 * Every port returned is distinct, so two services can never be given the same one.
 */
export async function allocatePorts<K extends string>(
  preferred: Record<K, number>,
  host = '127.0.0.1',
): Promise<Record<K, number>> {
  const taken = new Set<number>()
  const result = {} as Record<K, number>
  for (const name of Object.keys(preferred) as K[]) {
    const want = preferred[name]
    let port = want
    if (want === 0 || taken.has(port) || !(await isPortFree(port, host))) {
      do port = await ephemeralPort(host)
      while (taken.has(port))
    }
    taken.add(port)
    result[name] = port
  }
  return result
}
