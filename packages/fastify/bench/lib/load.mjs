// One burst of load with autocannon, run in this (the parent) process: the servers are other processes.
import autocannon from 'autocannon'

/**
 * @param {string} url
 * @param {{ connections: number, durationSeconds: number }} o
 * @returns {Promise<{ requestsPerSecond: number, requests: number }>}
 */
export async function burst(url, o) {
  const result = await autocannon({
    url,
    connections: o.connections,
    pipelining: o.pipelining ?? 1,
    duration: o.durationSeconds,
    // autocannon checks for the end of the run on each sample tick; a short tick keeps bursts short
    sampleInt: 100,
  })
  if (result.errors || result.timeouts || result.non2xx || result.requests.total === 0) {
    throw new Error(
      `load on ${url}: ${result.requests.total} answers, ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`,
    )
  }
  return { requestsPerSecond: result.requests.total / result.duration, requests: result.requests.total }
}
