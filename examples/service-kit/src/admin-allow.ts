/** Where Prometheus scrapes from in a container network or a cluster: the private ranges. */
const PRIVATE_NETWORKS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']
const LOOPBACK = ['127.0.0.1/32', '::1/128']

/**
 * Who may read `/metrics` and pprof on the admin port (the probes are open to all). On loopback only local
 * clients exist; bound to another address (`0.0.0.0` in a container), Prometheus scrapes from another
 * container or pod, whose address is private but unknown here.
 */
export function defaultAdminAllow(host: string): string[] {
  const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.')
  return loopback ? [...LOOPBACK] : [...LOOPBACK, ...PRIVATE_NETWORKS]
}
