/**
 * Destinations a webhook must never reach (docs/destinations.md, "Blocked addresses"), shared by the pure
 * rule tests, the save-time API tests and the send-time worker tests, plus the
 * DNS answers a test resolver gives for the names among them.
 */
import type { ResolveHost } from '../../src/net/resolve.js';

/** What the test resolver answers. Names not listed fail like NXDOMAIN. */
export const TEST_DNS: Record<string, string[]> = {
  localhost: ['127.0.0.1', '::1'],
  'metadata.google.internal': ['169.254.169.254'],
  'metadata.azure.internal': ['169.254.169.254'],
  'instance-data.ec2.internal': ['fd00:ec2::254'],
  '127.0.0.1.nip.io': ['127.0.0.1'],
  'mixed.hostile.test': ['93.184.215.14', '10.0.0.5'],
  'v6private.hostile.test': ['fd12:3456::1'],
  'mapped.hostile.test': ['::ffff:10.0.0.1'],
  'cgnat.hostile.test': ['100.100.100.200'],
  'kube.hostile.test': ['172.20.0.10'],
  'public.example.test': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'hooks.example.test': ['8.8.4.4'],
};

/** A resolver answering from a table, like getaddrinfo with `all: true`. */
export function tableResolver(table: Record<string, string[]> = TEST_DNS): ResolveHost {
  return async (hostname) => {
    const answers = table[hostname.toLowerCase()];
    if (!answers)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

/** Every one is refused with `blocked_destination` outside --dev. `why` documents the form. */
export const HOSTILE_URLS: Array<{ url: string; why: string }> = [
  { url: 'https://127.0.0.1/', why: 'loopback' },
  { url: 'https://127.0.0.1:8443/hook', why: 'loopback, other port' },
  { url: 'https://127.255.255.254/', why: 'loopback, top of 127/8' },
  { url: 'https://2130706433/', why: 'loopback as one decimal number' },
  { url: 'https://0x7f000001/', why: 'loopback as one hex number' },
  { url: 'https://0x7f.1/', why: 'loopback, hex and short form' },
  { url: 'https://127.1/', why: 'loopback, short form' },
  { url: 'https://0177.0.0.1/', why: 'loopback, octal' },
  { url: 'https://017700000001/', why: 'loopback as one octal number' },
  { url: 'https://0x7f.0x0.0x0.0x1/', why: 'loopback, hex parts' },
  { url: 'https://127.000.000.001/', why: 'loopback, zero-padded' },
  { url: 'https://%31%32%37.0.0.1/', why: 'loopback, percent-encoded' },
  { url: 'https://①②⑦.0.0.1/', why: 'loopback, Unicode digits (IDNA maps them)' },
  { url: 'https://localhost/', why: 'name of loopback' },
  { url: 'https://localhost./', why: 'name of loopback, trailing dot' },
  { url: 'https://127.0.0.1.nip.io/', why: 'wildcard DNS to loopback' },
  { url: 'https://0/', why: '0.0.0.0 as one number' },
  { url: 'https://0.0.0.0/', why: 'this network' },
  { url: 'https://[::]/', why: 'IPv6 unspecified' },
  { url: 'https://[::1]/', why: 'IPv6 loopback' },
  { url: 'https://[::ffff:127.0.0.1]/', why: 'IPv4-mapped loopback' },
  { url: 'https://[::ffff:7f00:1]/', why: 'IPv4-mapped loopback, hex' },
  { url: 'https://[0:0:0:0:0:ffff:7f00:1]/', why: 'IPv4-mapped loopback, long form' },
  { url: 'https://[::ffff:a9fe:a9fe]/', why: 'IPv4-mapped metadata address' },
  { url: 'https://[::7f00:1]/', why: 'IPv4-compatible loopback' },
  { url: 'https://[::127.0.0.1]/', why: 'IPv4-compatible loopback, dotted' },
  { url: 'https://[::ffff:0:7f00:1]/', why: 'IPv4-translated (inside ::/8)' },
  { url: 'https://[64:ff9b::7f00:1]/', why: 'NAT64 of loopback' },
  { url: 'https://[64:ff9b::a9fe:a9fe]/', why: 'NAT64 of the metadata address' },
  { url: 'https://[64:ff9b:1::808:808]/', why: 'local-use NAT64, even of a public address' },
  { url: 'https://169.254.169.254/latest/meta-data/', why: 'cloud metadata' },
  { url: 'https://metadata.google.internal/computeMetadata/v1/', why: 'metadata name' },
  { url: 'https://metadata.azure.internal/', why: 'metadata name' },
  { url: 'https://instance-data.ec2.internal/', why: 'name of the EC2 IPv6 metadata address' },
  { url: 'https://[fd00:ec2::254]/', why: 'EC2 IPv6 metadata' },
  { url: 'https://10.0.0.1/', why: 'private 10/8' },
  { url: 'https://172.16.0.1/', why: 'private 172.16/12' },
  { url: 'https://172.31.255.255/', why: 'private 172.16/12, top' },
  { url: 'https://192.168.1.1/', why: 'private 192.168/16' },
  { url: 'https://0300.0250.0.1/', why: '192.168.0.1 in octal' },
  { url: 'https://kube.hostile.test/', why: 'name resolving to 172.20/12' },
  { url: 'https://mixed.hostile.test/', why: 'one public and one private answer' },
  { url: 'https://v6private.hostile.test/', why: 'name resolving to fc00::/7' },
  { url: 'https://mapped.hostile.test/', why: 'name resolving to IPv4-mapped private' },
  { url: 'https://100.64.0.1/', why: 'carrier-grade NAT' },
  { url: 'https://100.127.255.254/', why: 'carrier-grade NAT, top' },
  { url: 'https://cgnat.hostile.test/', why: 'name resolving to CGNAT (Alibaba metadata)' },
  { url: 'https://192.0.0.1/', why: 'IETF protocol assignments' },
  { url: 'https://192.0.2.1/', why: 'TEST-NET-1' },
  { url: 'https://192.88.99.1/', why: '6to4 relay anycast' },
  { url: 'https://198.18.0.1/', why: 'benchmarking' },
  { url: 'https://198.19.255.255/', why: 'benchmarking, top' },
  { url: 'https://198.51.100.7/', why: 'TEST-NET-2' },
  { url: 'https://203.0.113.9/', why: 'TEST-NET-3' },
  { url: 'https://224.0.0.1/', why: 'multicast' },
  { url: 'https://239.255.255.250/', why: 'multicast (SSDP)' },
  { url: 'https://240.0.0.1/', why: 'reserved' },
  { url: 'https://255.255.255.255/', why: 'broadcast' },
  { url: 'https://[fe80::1]/', why: 'IPv6 link-local' },
  { url: 'https://[febf:ffff::1]/', why: 'IPv6 link-local, top' },
  { url: 'https://[fc00::1]/', why: 'unique local' },
  { url: 'https://[fd12:3456:789a::1]/', why: 'unique local' },
  { url: 'https://[fec0::1]/', why: 'site-local' },
  { url: 'https://[ff02::1]/', why: 'IPv6 multicast, all nodes' },
  { url: 'https://[ff05::1:3]/', why: 'IPv6 multicast, site' },
  { url: 'https://[2001:db8::1]/', why: 'IPv6 documentation' },
  { url: 'https://[2002:7f00:1::]/', why: '6to4 of loopback' },
  { url: 'https://[2002:c0a8:101::1]/', why: '6to4 of 192.168.1.1' },
  { url: 'https://[2001::1]/', why: 'Teredo' },
  { url: 'https://[2001:10::1]/', why: 'ORCHID, inside 2001::/23' },
  { url: 'https://[100::1]/', why: 'discard-only' },
  { url: 'https://[::2]/', why: 'IPv4-compatible 0.0.0.2 (inside ::/8)' },
  { url: 'https://[1::1]/', why: 'reserved, outside 2000::/3' },
  { url: 'https://[::8.8.8.8]/', why: 'IPv4-compatible of a public address (::/8)' },
  { url: 'https://[::808:808]/', why: 'IPv4-compatible of a public address, hex' },
  { url: 'https://[0:0:0:0:0:0:8.8.8.8]/', why: 'IPv4-compatible, long dotted form' },
  { url: 'https://[0000::0808:0808]/', why: 'IPv4-compatible, zero-padded groups' },
  { url: 'https://[::ffff:0:808:808]/', why: 'IPv4-translated of a public address (::/8)' },
  { url: 'https://[::1:808:808]/', why: 'inside ::/8, neither mapped nor compatible' },
  { url: 'https://[ff::808:808]/', why: 'top of ::/8 (00ff::)' },
  { url: 'https://[::ff:ffff:808:808]/', why: 'inside ::/8, next to the mapped range' },
];

/** URLs with a host the WHATWG parser itself refuses: a 422 on `url` at save, never sendable. */
export const INVALID_HOSTILE_URLS = [
  'https://[fe80::1%25eth0]/',
  'https://[fe80::1%eth0]/',
  'https://1.2.3.4.5/',
  'https://127.0.0.1 .x/',
];

/** Public destinations that must stay allowed (with the test resolver). */
export const PUBLIC_URLS: string[] = [
  'https://8.8.8.8/',
  'https://1.1.1.1/hook',
  'https://hooks.example.test/in',
  'https://public.example.test/',
  'https://[2606:4700:4700::1111]/',
  'https://[2a00:1450:4001:81c::200e]/',
  'https://[::ffff:8.8.8.8]/',
  'https://[64:ff9b::808:808]/',
  'https://11.0.0.1/',
  'https://100.128.0.1/',
  'https://169.255.0.1/',
  'https://172.32.0.1/',
  'https://192.169.0.1/',
  'https://198.20.0.1/',
  'https://203.0.114.1/',
  'https://223.255.255.254/',
  'https://134744072/',
];
