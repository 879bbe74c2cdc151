import { describe, expect, it } from 'vitest';
import {
  blockedReason,
  compileAllowList,
  parseHostAddress,
  parseLegacyIPv4,
} from '../../src/core/ssrf.js';
import { BLOCKED_DESTINATION, resolveAllowed } from '../../src/net/resolve.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import {
  HOSTILE_URLS,
  INVALID_HOSTILE_URLS,
  PUBLIC_URLS,
  tableResolver,
} from '../support/hostile-urls.js';

const prod = { dev: false, allowCidrs: [] as string[], resolveHost: tableResolver() };

describe('legacy IPv4 host forms', () => {
  it('reads every form inet_aton accepts, as the WHATWG URL parser does', () => {
    for (const [text, expected] of [
      ['2130706433', '127.0.0.1'],
      ['0x7f000001', '127.0.0.1'],
      ['0x7f.1', '127.0.0.1'],
      ['127.1', '127.0.0.1'],
      ['127.0.1', '127.0.0.1'],
      ['0177.0.0.1', '127.0.0.1'],
      ['017700000001', '127.0.0.1'],
      ['0300.0250.0.1', '192.168.0.1'],
      ['127.0.0.1.', '127.0.0.1'],
      ['0', '0.0.0.0'],
      ['0x', '0.0.0.0'],
      ['169.254.43518', '169.254.169.254'],
    ]) {
      expect(parseLegacyIPv4(text)?.toString(), text).toBe(expected);
      // Same answer as the URL parser, so a host means the same thing wherever it is read.
      expect(new URL(`https://${text}/`).hostname, text).toBe(expected);
    }
  });

  it('does not read names or out-of-range numbers as addresses', () => {
    for (const text of [
      'example.com',
      '1.2.3.4.5',
      '256.1.1.1',
      '1.2.3.256',
      '4294967296',
      '08.1.1.1',
      '0x1g',
      '1e3',
      '',
      '.1',
      '1..1',
    ]) {
      expect(parseLegacyIPv4(text), text).toBeNull();
    }
  });

  it('parses bracketed IPv6 and strips zone ids', () => {
    expect(parseHostAddress('[::1]')?.toString()).toBe('::1');
    expect(parseHostAddress('fe80::1%eth0')?.toString()).toBe('fe80::1');
    expect(parseHostAddress('[fe80::1%25eth0]')?.toString()).toBe('fe80::1');
    expect(parseHostAddress('hooks.example.com')).toBeNull();
  });
});

describe('address rules', () => {
  it('names the range that refuses an address', () => {
    expect(blockedReason('127.0.0.1')).toMatchObject({ range: '127.0.0.0/8', name: 'loopback' });
    expect(blockedReason('::1')).toMatchObject({ range: '::1/128', name: 'loopback' });
    expect(blockedReason('::')).toMatchObject({ range: '::/128' });
    expect(blockedReason('::ffff:10.1.1.1')).toMatchObject({ range: '10.0.0.0/8' });
    expect(blockedReason('64:ff9b::a9fe:a9fe')).toMatchObject({ range: '169.254.0.0/16' });
    expect(blockedReason('64:ff9b:1::1')).toMatchObject({ range: '64:ff9b:1::/48' });
    expect(blockedReason('not-an-ip')).toMatchObject({ name: 'not an IP address' });
  });

  it('judges IPv4 inside IPv6 by that IPv4 (mapped, compatible, NAT64)', () => {
    expect(blockedReason('::ffff:8.8.8.8')).toBeNull();
    expect(blockedReason('::8.8.8.8')).toBeNull();
    expect(blockedReason('64:ff9b::8.8.8.8')).toBeNull();
    expect(blockedReason('::ffff:192.168.0.1')).not.toBeNull();
    expect(blockedReason('::192.168.0.1')).not.toBeNull();
    expect(blockedReason('64:ff9b::192.168.0.1')).not.toBeNull();
  });

  it('lets allow-list entries through and nothing next to them', () => {
    const allow = compileAllowList(['10.1.2.0/24', 'fd00:1::/32', '127.0.0.2']);
    expect(blockedReason('10.1.2.3', allow)).toBeNull();
    expect(blockedReason('::ffff:10.1.2.3', allow)).toBeNull();
    expect(blockedReason('64:ff9b::10.1.2.3', allow)).toBeNull();
    expect(blockedReason('10.1.3.1', allow)).not.toBeNull();
    expect(blockedReason('fd00:1::5', allow)).toBeNull();
    expect(blockedReason('fd00:2::5', allow)).not.toBeNull();
    expect(blockedReason('127.0.0.2', allow)).toBeNull();
    expect(blockedReason('127.0.0.1', allow)).not.toBeNull();
    expect(() => compileAllowList(['10.0.0.0/33'])).toThrow(/not a CIDR/);
    expect(() => compileAllowList(['banana'])).toThrow(/not a CIDR/);
  });

  it('reads HOOKLINE_ALLOW_CIDRS at start and refuses a bad entry there, not at the first send', () => {
    expect(
      loadConfig({ HOOKLINE_ALLOW_CIDRS: '10.1.0.0/16, fd00::/8,127.0.0.2' }).allowCidrs,
    ).toEqual(['10.1.0.0/16', 'fd00::/8', '127.0.0.2']);
    expect(() => loadConfig({ HOOKLINE_ALLOW_CIDRS: '10.0.0.0/8,banana' })).toThrow(ConfigError);
  });
});

describe('hostile URL table', () => {
  it('has at least 40 entries', () => {
    expect(HOSTILE_URLS.length).toBeGreaterThanOrEqual(40);
  });

  it.each(HOSTILE_URLS)('refuses $url ($why)', async ({ url }) => {
    const host = new URL(url).hostname;
    await expect(resolveAllowed(host, prod)).rejects.toMatchObject({ code: BLOCKED_DESTINATION });
  });

  it.each(INVALID_HOSTILE_URLS)('%s is not even a URL', (url) => {
    expect(() => new URL(url)).toThrow();
  });

  it.each(PUBLIC_URLS)('allows %s', async (url) => {
    const addresses = await resolveAllowed(new URL(url).hostname, prod);
    expect(addresses.length).toBeGreaterThan(0);
  });

  it('refuses every hostile URL when the allow list is empty and none when it covers everything', async () => {
    const open = { ...prod, allowCidrs: ['0.0.0.0/0', '::/0'] };
    for (const { url } of HOSTILE_URLS) {
      await expect(resolveAllowed(new URL(url).hostname, open), url).resolves.not.toHaveLength(0);
    }
  });
});
