import { BlockList, isIPv4, isIPv6 } from 'node:net'
import { InvalidOptionError } from '@goreliable/core'

/** Tells whether a client address (a socket's `remoteAddress`) is in an allow list. */
export type AddressMatcher = (address: string | undefined) => boolean

/** `::ffff:a.b.c.d`, the form a dual-stack socket reports an IPv4 client in. */
const MAPPED_IPV4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i

/**
 * Builds a matcher from CIDR blocks (`'10.0.0.0/8'`, `'fd00::/8'`) and single addresses (`'10.1.2.3'`,
 * `'::1'`). An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`), as a socket bound to `::` reports an IPv4
 * client, is matched in its IPv4 form, and a mapped block in the list (`::ffff:10.0.0.0/104`) is stored as
 * the IPv4 block it stands for, so either spelling matches either kind of client.
 *
 * Throws InvalidOptionError naming the entry (`admin.allow[2]`) for anything that is not an address or CIDR.
 */
export function parseAllowList(name: string, value: unknown): AddressMatcher {
  if (!Array.isArray(value)) throw new InvalidOptionError(name, 'an array of CIDR blocks', value)
  const list = new BlockList()
  for (const [i, entry] of value.entries()) {
    const rule = parseCidr(entry)
    if (rule === undefined) {
      throw new InvalidOptionError(
        `${name}[${i}]`,
        'an IPv4 or IPv6 address or CIDR block like "10.0.0.0/8"',
        entry,
      )
    }
    list.addSubnet(rule.address, rule.prefix, rule.family)
  }
  return (address) => {
    if (address === undefined) return false
    const mapped = MAPPED_IPV4.exec(address)
    if (mapped) return list.check(mapped[1]!, 'ipv4')
    if (isIPv4(address)) return list.check(address, 'ipv4')
    if (isIPv6(address)) return list.check(address, 'ipv6')
    return false
  }
}

interface Rule {
  address: string
  prefix: number
  family: 'ipv4' | 'ipv6'
}

function parseCidr(entry: unknown): Rule | undefined {
  if (typeof entry !== 'string') return undefined
  const slash = entry.indexOf('/')
  const address = slash === -1 ? entry : entry.slice(0, slash)
  const prefixText = slash === -1 ? undefined : entry.slice(slash + 1)
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined
  const mapped = MAPPED_IPV4.exec(address)
  if (mapped && isIPv4(mapped[1]!)) {
    const prefix = prefixText === undefined ? 128 : Number(prefixText)
    if (prefix < 96 || prefix > 128) return undefined
    return { address: mapped[1]!, prefix: prefix - 96, family: 'ipv4' }
  }
  if (isIPv4(address)) {
    const prefix = prefixText === undefined ? 32 : Number(prefixText)
    return prefix <= 32 ? { address, prefix, family: 'ipv4' } : undefined
  }
  if (isIPv6(address)) {
    const prefix = prefixText === undefined ? 128 : Number(prefixText)
    return prefix <= 128 ? { address, prefix, family: 'ipv6' } : undefined
  }
  return undefined
}
