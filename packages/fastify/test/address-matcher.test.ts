import { describe, expect, it } from 'vitest'
import { parseAllowList } from '../src/address-matcher.js'

describe('parseAllowList', () => {
  it('matches IPv4 and IPv6 blocks and single addresses', () => {
    const allowed = parseAllowList('allow', ['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1'])
    expect(allowed('10.200.3.4')).toBe(true)
    expect(allowed('11.0.0.1')).toBe(false)
    expect(allowed('192.168.1.7')).toBe(true)
    expect(allowed('192.168.1.8')).toBe(false)
    expect(allowed('fd12:3456::1')).toBe(true)
    expect(allowed('fe80::1')).toBe(false)
    expect(allowed('::1')).toBe(true)
  })

  it('matches an IPv4-mapped IPv6 client as its IPv4 form, and a mapped block as an IPv4 block', () => {
    const v4 = parseAllowList('allow', ['127.0.0.1/32'])
    expect(v4('::ffff:127.0.0.1')).toBe(true)
    expect(v4('::FFFF:127.0.0.1')).toBe(true)
    expect(v4('::ffff:127.0.0.2')).toBe(false)
    const mapped = parseAllowList('allow', ['::ffff:10.0.0.0/104'])
    expect(mapped('10.1.2.3')).toBe(true)
    expect(mapped('::ffff:10.1.2.3')).toBe(true)
    expect(mapped('11.1.2.3')).toBe(false)
  })

  it('denies what is not an address, and everything with an empty list', () => {
    const allowed = parseAllowList('allow', ['0.0.0.0/0'])
    expect(allowed(undefined)).toBe(false)
    expect(allowed('not an address')).toBe(false)
    expect(allowed('1.2.3.4')).toBe(true)
    expect(parseAllowList('allow', [])('127.0.0.1')).toBe(false)
  })

  it.each([
    '10.0.0.0/33',
    '::/129',
    'localhost',
    '10.0.0.0/',
    '/8',
    '10.0.0.0/8/8',
    '::ffff:10.0.0.0/64',
    '',
  ])('rejects %o, naming the entry', (entry) => {
    expect(() => parseAllowList('admin.allow', ['::1', entry])).toThrow(/admin\.allow\[1\]/)
  })
})
