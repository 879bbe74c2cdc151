/**
 * Which network addresses Hookline may send webhooks to (docs/destinations.md, "Blocked addresses").
 * Pure rules, no I/O: src/net/guard.ts applies them when a webhook is saved and
 * src/net/dispatcher.ts when a connection is opened.
 *
 * Uses ipaddr.js, never the `ip` package (its isPublic/isPrivate have had
 * bypasses that were never fixed).
 */
import ipaddr from 'ipaddr.js';

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** Why an address is refused: the range it falls in and a name people recognise. */
export interface BlockedReason {
  address: string;
  range: string;
  name: string;
}

type Cidr = [IpAddress, number];

function cidr(text: string): Cidr {
  return ipaddr.parseCIDR(text);
}

// The IPv4 list of docs/destinations.md ("Blocked addresses"), in order. 255.255.255.255 (broadcast) is inside 240/4.
const IPV4_BLOCKED: Array<[string, string]> = [
  ['0.0.0.0/8', 'this network'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local (cloud metadata)'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', '6to4 relay anycast'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved or broadcast'],
];

// IPv6 ranges refused outright. ::/8 is handled separately because one part of it
// (IPv4-mapped, ::ffff:0:0/96) is judged by the IPv4 address it carries; the rest of
// ::/8, IPv4-compatible ::a.b.c.d included (deprecated, and some stacks route it as
// IPv4 over automatic tunnels), is refused whatever it carries.
const IPV6_BLOCKED: Array<[string, string]> = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['64:ff9b:1::/48', 'local-use IPv4/IPv6 translation'],
  ['100::/64', 'discard-only'],
  ['2001:db8::/32', 'documentation'],
  ['2001::/23', 'IETF protocol assignments (Teredo, benchmarking, ORCHID)'],
  ['2002::/16', '6to4'],
  ['fc00::/7', 'unique local (private)'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local (deprecated)'],
  ['ff00::/8', 'multicast'],
];

const v4Blocked = IPV4_BLOCKED.map(([range, name]) => ({ range, name, cidr: cidr(range) }));
const v6Blocked = IPV6_BLOCKED.map(([range, name]) => ({ range, name, cidr: cidr(range) }));
const MAPPED = cidr('::ffff:0:0/96');
const NAT64 = cidr('64:ff9b::/96');
const RESERVED_V6 = cidr('::/8');
// Everything routable on the IPv6 Internet is global unicast 2000::/3; what lies
// outside it and is not named above is unassigned, so it is refused too.
const GLOBAL_UNICAST = cidr('2000::/3');

/** Parsed `HOOKLINE_ALLOW_CIDRS`: explicit exceptions to the rules. */
export interface AllowList {
  cidrs: Cidr[];
}

/** Parses allow-list CIDRs; a bare address means just that address. Throws on a bad entry. */
export function compileAllowList(entries: readonly string[]): AllowList {
  const cidrs = entries.map((entry) => {
    const text = entry.trim();
    try {
      if (text.includes('/')) return cidr(text);
      const addr = ipaddr.parse(text);
      return [addr, addr.kind() === 'ipv4' ? 32 : 128] as Cidr;
    } catch {
      throw new Error(`not a CIDR: "${entry}" (expected e.g. 10.1.2.0/24 or fd00::/8)`);
    }
  });
  return { cidrs };
}

const EMPTY: AllowList = { cidrs: [] };

/**
 * One part of a legacy IPv4 literal as inet_aton reads it: `0x…` hex, `0…` octal,
 * otherwise decimal. Returns NaN when it is not a number in any of those.
 */
function legacyPart(part: string): number {
  if (/^0x[0-9a-f]*$/i.test(part)) return part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  if (/^0[0-7]*$/.test(part)) return parseInt(part, 8);
  if (/^[1-9][0-9]*$/.test(part)) return Number(part);
  return NaN;
}

/**
 * Reads IPv4 in every form inet_aton and the WHATWG URL parser accept: `127.0.0.1`,
 * `2130706433`, `0x7f000001`, `0x7f.1`, `127.1`, `0177.0.0.1`, with an optional
 * trailing dot. `new URL()` already rewrites these to dotted decimal, but a host
 * can reach us by other paths (a resolver answer, a config value), and a system
 * resolver would happily connect to `0x7f.1`, so we never assume it was normalised.
 */
export function parseLegacyIPv4(host: string): ipaddr.IPv4 | null {
  const text = host.endsWith('.') ? host.slice(0, -1) : host;
  const parts = text.split('.');
  if (parts.length < 1 || parts.length > 4 || parts.some((p) => p === '')) return null;
  const values = parts.map(legacyPart);
  if (values.some((v) => !Number.isFinite(v))) return null;
  const last = values.pop()!;
  if (values.some((v) => v > 255)) return null;
  // The last part fills every byte the earlier parts did not: `127.1` is 127.0.0.1.
  const lastBytes = 4 - values.length;
  if (last >= 2 ** (8 * lastBytes)) return null;
  const bytes = [...values];
  for (let i = lastBytes - 1; i >= 0; i--) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return new ipaddr.IPv4(bytes);
}

/**
 * The IP address a URL host names, or null when it is a DNS name.
 * Accepts `[v6]` brackets, zone ids (`fe80::1%eth0`, `%25eth0`) and legacy IPv4.
 */
export function parseHostAddress(host: string): IpAddress | null {
  let text = host.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  if (text.includes(':')) {
    const bare = text.replace(/%(25)?[^%]*$/, '');
    return ipaddr.IPv6.isValid(bare) ? ipaddr.IPv6.parse(bare) : null;
  }
  return parseLegacyIPv4(text);
}

function allowed(addr: IpAddress, allow: AllowList): boolean {
  return allow.cidrs.some(([net, bits]) => addr.kind() === net.kind() && addr.match(net, bits));
}

/**
 * The IPv4 address an IPv4-mapped or NAT64 (64:ff9b::/96) IPv6 address stands for,
 * the two forms the rules judge by their IPv4. IPv4-compatible (::a.b.c.d) is not
 * one of them: it lies in ::/8 and is refused outright.
 */
export function embeddedIPv4(addr: ipaddr.IPv6): ipaddr.IPv4 | null {
  if (addr.match(MAPPED) || addr.match(NAT64)) {
    return new ipaddr.IPv4(addr.toByteArray().slice(12));
  }
  return null;
}

function judgeV4(addr: ipaddr.IPv4, allow: AllowList, shown: string): BlockedReason | null {
  if (allowed(addr, allow)) return null;
  const hit = v4Blocked.find((b) => addr.match(b.cidr));
  return hit ? { address: shown, range: hit.range, name: hit.name } : null;
}

/**
 * Why `address` may not be sent to, or null when it may. `allow` entries win over
 * every rule. IPv4 inside IPv6 (mapped, NAT64) is judged as that IPv4, so
 * `::ffff:127.0.0.1` is loopback and `::ffff:8.8.8.8` is fine; `::8.8.8.8` is in ::/8.
 */
export function blockedReason(
  address: string | IpAddress,
  allow: AllowList = EMPTY,
): BlockedReason | null {
  const addr = typeof address === 'string' ? parseHostAddress(address) : address;
  if (!addr) return { address: String(address), range: '-', name: 'not an IP address' };
  const shown = addr.toString();
  if (addr.kind() === 'ipv4') return judgeV4(addr as ipaddr.IPv4, allow, shown);

  const v6 = addr as ipaddr.IPv6;
  if (allowed(v6, allow)) return null;
  const named = v6Blocked.find((b) => v6.match(b.cidr));
  const inner = embeddedIPv4(v6);
  if (inner) return judgeV4(inner, allow, shown);
  if (named) return { address: shown, range: named.range, name: named.name };
  if (v6.match(RESERVED_V6)) return { address: shown, range: '::/8', name: 'reserved' };
  if (!v6.match(GLOBAL_UNICAST))
    return { address: shown, range: '2000::/3', name: 'not global unicast' };
  return null;
}

/** A one-line explanation for error messages and logs. */
export function describeBlocked(r: BlockedReason): string {
  return r.range === '-'
    ? `${r.address} is not an IP address`
    : `${r.address} is in ${r.range} (${r.name})`;
}
