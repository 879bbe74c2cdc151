import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { signatureHeaders } from '../../src/core/signing.js';
import { generateSigningSeed } from '../../src/core/ed25519.js';
import {
  joinRequestHeaders,
  SET_REFRESH_MS,
  setsToWrite,
  splitRequestHeaders,
  type AttemptFacts,
} from '../../src/store/request-headers.js';

const key = randomBytes(32);
const seed = generateSigningSeed();

/** What sendAttempt sends (src/worker/send.ts): custom headers, then ours, then the signatures. */
function sent(
  facts: Required<AttemptFacts>,
  opts: {
    custom?: Record<string, string>;
    scheme?: 'hmac' | 'ed25519' | 'both';
    legacy?: 'timestamped' | 'body' | 'none';
  } = {},
) {
  return {
    ...opts.custom,
    'content-type': 'application/json',
    'user-agent': 'Hookline/1.2.3',
    ...signatureHeaders({
      id: facts.eventId,
      eventType: facts.eventType,
      timestamp: Math.floor(facts.startedAt.getTime() / 1000),
      body: '{"id":"evt_1","type":"ticket.created","timestamp":"…","data":{}}',
      keys: [key],
      scheme: opts.scheme,
      signingSeeds: [seed],
      legacy: opts.legacy,
    }),
  };
}

const facts = (n: number): Required<AttemptFacts> => ({
  eventId: `evt_${n}`,
  eventType: n % 2 ? 'ticket.created' : 'payroll.processed',
  startedAt: new Date(Date.UTC(2026, 11, 8, 1, 0, n, 999)),
});

describe('request headers stored without what every attempt repeats', () => {
  it('reads back exactly what was sent, for every signature scheme and legacy form', () => {
    for (const scheme of ['hmac', 'ed25519', 'both'] as const)
      for (const legacy of ['timestamped', 'body', 'none'] as const) {
        const f = facts(7);
        const headers = sent(f, { scheme, legacy, custom: { 'X-Tenant': 'acme', b: '' } });
        const { own, set } = splitRequestHeaders('wh_1', headers, f);
        expect(joinRequestHeaders(own, set, f), `${scheme}/${legacy}`).toEqual(headers);
      }
  });

  it('keeps only the signatures in the attempt, the rest in a set its webhook shares', () => {
    const a = splitRequestHeaders('wh_1', sent(facts(1), { custom: { 'x-a': '1' } }), facts(1));
    const b = splitRequestHeaders('wh_1', sent(facts(2), { custom: { 'x-a': '1' } }), facts(2));
    expect(Object.keys(a.own).sort()).toEqual(['webhook-signature', 'x-webhook-signature']);
    expect(a.set.id).toBe(b.set.id);
    expect(a.set.headers).toEqual({
      'content-type': 'application/json',
      'user-agent': 'Hookline/1.2.3',
      'x-a': '1',
    });
    expect(a.set.derived).toEqual([
      'webhook-id',
      'webhook-timestamp',
      'x-webhook-event',
      'x-webhook-timestamp',
    ]);
  });

  it('names another set for other shared headers or another webhook, the same in any order', () => {
    const f = facts(3);
    const base = splitRequestHeaders('wh_1', sent(f, { custom: { 'x-a': '1', 'x-b': '2' } }), f);
    const reordered = splitRequestHeaders(
      'wh_1',
      Object.fromEntries(Object.entries(sent(f, { custom: { 'x-b': '2', 'x-a': '1' } })).reverse()),
      f,
    );
    expect(reordered.set.id).toBe(base.set.id);
    expect(
      splitRequestHeaders('wh_1', sent(f, { custom: { 'x-a': '1', 'x-b': '3' } }), f).set.id,
    ).not.toBe(base.set.id);
    expect(
      splitRequestHeaders('wh_2', sent(f, { custom: { 'x-a': '1', 'x-b': '2' } }), f).set.id,
    ).not.toBe(base.set.id);
  });

  it('keeps in the attempt a value that differs from what it would be derived from', () => {
    // A relay reports the headers it sent: its timestamp may be another second than started_at.
    const f = facts(4);
    const headers = { ...sent(f), 'webhook-timestamp': '1', 'webhook-id': 'evt_other' };
    const { own, set } = splitRequestHeaders('wh_1', headers, f);
    expect(own['webhook-timestamp']).toBe('1');
    expect(own['webhook-id']).toBe('evt_other');
    expect(set.derived).toEqual(['x-webhook-event', 'x-webhook-timestamp']);
    expect(joinRequestHeaders(own, set, f)).toEqual(headers);
  });

  it('derives nothing it was not told: no event id, no webhook-id derived', () => {
    const f = facts(5);
    const headers = sent(f);
    const { own, set } = splitRequestHeaders('wh_1', headers, {
      startedAt: f.startedAt,
      eventType: f.eventType,
    });
    expect(set.headers['webhook-id']).toBe(f.eventId);
    expect(set.derived).not.toContain('webhook-id');
    expect(joinRequestHeaders(own, set, f)).toEqual(headers);
  });

  it('reads a row without a set as it was stored (rows older than the sets, or a set gone)', () => {
    const f = facts(6);
    expect(joinRequestHeaders({ a: '1' }, null, f)).toEqual({ a: '1' });
    expect(joinRequestHeaders(null, null, f)).toEqual({});
  });

  it('marks a set for a refresh of used_at at first use, then again only after the interval', () => {
    const f = facts(8);
    const { set } = splitRequestHeaders(`wh_${Math.random()}`, sent(f), f);
    const t = 1_000_000;
    expect(setsToWrite([set, set], t)).toEqual([{ ...set, refresh: true }]);
    expect(setsToWrite([set], t + SET_REFRESH_MS - 1)).toEqual([{ ...set, refresh: false }]);
    expect(setsToWrite([set], t + SET_REFRESH_MS)).toEqual([{ ...set, refresh: true }]);
  });
});
