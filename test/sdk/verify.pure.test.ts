import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import {
  verify,
  verifySignature,
  WebhookVerificationError,
  type VerificationFailure,
} from '../../sdk/index.js';
import { decodeSecret, generateSecret, signatureHeaders } from '../../src/core/signing.js';

// The same fixed vector as test/core/signing.test.ts: one set of vectors for signing and verifying.
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const vector = {
  id: 'evt_01hzzzzzzzzzzzzzzzzzzzzz',
  timestamp: 1700000000,
  body: '{"id":"evt_01hzzzzzzzzzzzzzzzzzzzzz","type":"ticket.created","timestamp":"2023-11-14T22:13:20.000Z","data":{"n":1}}',
};
const at = (seconds: number) => seconds * 1000;
const vectorNow = { now: at(vector.timestamp) };

/** Signed independently of src/core/signing.ts, straight from the formulas of docs/receiving.md ("Signatures"). */
function independentStandard(key: string, id: string, ts: number, body: string): string {
  return createHmac('sha256', Buffer.from(key.replace(/^whsec_/, ''), 'base64'))
    .update(`${id}.${ts}.${body}`)
    .digest('base64');
}
function independentLegacy(key: string, ts: number, body: string): string {
  return createHmac('sha256', Buffer.from(key.replace(/^whsec_/, ''), 'base64'))
    .update(`${ts}.${body}`)
    .digest('hex');
}

function ourHeaders(opts: { keys?: string[]; timestamp?: number; body?: string } = {}) {
  return signatureHeaders({
    id: vector.id,
    eventType: 'ticket.created',
    timestamp: opts.timestamp ?? vector.timestamp,
    body: opts.body ?? vector.body,
    keys: (opts.keys ?? [secret]).map(decodeSecret),
  });
}

function failure(fn: () => unknown): VerificationFailure {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookVerificationError);
    return (err as WebhookVerificationError).reason;
  }
  throw new Error('expected verification to fail, it passed');
}

function withClock<T>(ms: number, fn: () => T): T {
  const real = Date.now;
  Date.now = () => ms;
  try {
    return fn();
  } finally {
    Date.now = real;
  }
}

describe('verify: accepts what is correctly signed', () => {
  it('accepts Hookline’s own headers and returns the parsed event', () => {
    const event = verify(vector.body, ourHeaders(), secret, vectorNow);
    expect(event).toEqual(JSON.parse(vector.body));
    expect(verifySignature(vector.body, ourHeaders(), secret, vectorNow)).toEqual({
      scheme: 'standard',
      id: vector.id,
      timestamp: vector.timestamp,
    });
  });

  it('accepts the fixed vector signed independently of signing.ts', () => {
    const headers = {
      'webhook-id': vector.id,
      'webhook-timestamp': String(vector.timestamp),
      'webhook-signature': `v1,${independentStandard(secret, vector.id, vector.timestamp, vector.body)}`,
    };
    expect(verify(vector.body, headers, secret, vectorNow).id).toBe(vector.id);
  });

  it('verifies what the standardwebhooks package signs', () => {
    const sig = new StandardWebhook(secret).sign(
      vector.id,
      new Date(at(vector.timestamp)),
      vector.body,
    );
    const headers = {
      'webhook-id': vector.id,
      'webhook-timestamp': String(vector.timestamp),
      'webhook-signature': sig,
    };
    expect(verify(vector.body, headers, secret, vectorNow)).toEqual(JSON.parse(vector.body));
  });

  it('verifies what the svix package signs, with a secret svix generated format', () => {
    const svixSecret = 'whsec_' + Buffer.from('a svix-style 24-byte key!').toString('base64');
    const now = Math.floor(Date.now() / 1000);
    const sig = new SvixWebhook(svixSecret).sign('msg_2abc', new Date(at(now)), vector.body);
    const headers = {
      'webhook-id': 'msg_2abc',
      'webhook-timestamp': String(now),
      'webhook-signature': sig,
    };
    expect(verify(vector.body, headers, svixSecret).type).toBe('ticket.created');
  });

  it('produces headers that standardwebhooks and svix both verify (the other direction)', () => {
    const fresh = generateSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = ourHeaders({ keys: [fresh], timestamp: now });
    expect(new StandardWebhook(fresh).verify(vector.body, headers)).toEqual(
      JSON.parse(vector.body),
    );
    expect(new SvixWebhook(fresh).verify(vector.body, headers)).toEqual(JSON.parse(vector.body));
    // And they reject what we reject: a tampered body.
    expect(() =>
      new SvixWebhook(fresh).verify(vector.body.replace('"n":1', '"n":2'), headers),
    ).toThrow();
    expect(failure(() => verify(vector.body.replace('"n":1', '"n":2'), headers, fresh))).toBe(
      'no_matching_signature',
    );
  });

  it('verifies the legacy x-webhook-* headers alone', () => {
    const headers = {
      'x-webhook-event': 'ticket.created',
      'x-webhook-timestamp': String(vector.timestamp),
      'x-webhook-signature': `sha256=${independentLegacy(secret, vector.timestamp, vector.body)}`,
    };
    expect(verifySignature(vector.body, headers, secret, vectorNow)).toEqual({
      scheme: 'legacy',
      timestamp: vector.timestamp,
      eventType: 'ticket.created',
    });
    const ours = ourHeaders();
    const legacyOnly = {
      'x-webhook-timestamp': ours['x-webhook-timestamp'],
      'x-webhook-signature': ours['x-webhook-signature'],
    };
    expect(verify(vector.body, legacyOnly, secret, vectorNow).id).toBe(vector.id);
    expect(failure(() => verify(vector.body + ' ', legacyOnly, secret, vectorNow))).toBe(
      'no_matching_signature',
    );
  });

  it('accepts any of several signatures during a rotation, whichever secret the receiver holds', () => {
    const next = generateSecret();
    const both = ourHeaders({ keys: [next, secret] });
    expect(both['webhook-signature'].split(' ')).toHaveLength(2);
    expect(verify(vector.body, both, secret, vectorNow).id).toBe(vector.id); // receiver not yet updated
    expect(verify(vector.body, both, next, vectorNow).id).toBe(vector.id); // receiver already updated
  });

  it('accepts a list of secrets on the receiver side: any one may match', () => {
    const other = generateSecret();
    expect(verify(vector.body, ourHeaders(), [other, secret], vectorNow).id).toBe(vector.id);
    const legacyOnly = {
      'x-webhook-timestamp': String(vector.timestamp),
      'x-webhook-signature': ourHeaders()['x-webhook-signature'],
    };
    expect(verify(vector.body, legacyOnly, [other, secret], vectorNow).id).toBe(vector.id);
    expect(failure(() => verify(vector.body, ourHeaders(), [other], vectorNow))).toBe(
      'no_matching_signature',
    );
  });

  it('reads headers from a Fetch Headers object, any case, and repeated values', () => {
    const h = ourHeaders();
    expect(verify(vector.body, new Headers(h), secret, vectorNow).id).toBe(vector.id);
    const mixed = {
      'Webhook-Id': h['webhook-id'],
      'WEBHOOK-TIMESTAMP': h['webhook-timestamp'],
      'Webhook-Signature': h['webhook-signature'],
    };
    expect(verify(vector.body, mixed, secret, vectorNow).id).toBe(vector.id);
    const repeated = { ...h, 'webhook-signature': ['v1,AAAA', h['webhook-signature']] };
    expect(verify(vector.body, repeated, secret, vectorNow).id).toBe(vector.id);
  });

  it('takes the body as a string, a Buffer or a Uint8Array, and refuses a parsed object', () => {
    expect(verify(Buffer.from(vector.body), ourHeaders(), secret, vectorNow).id).toBe(vector.id);
    expect(verify(new TextEncoder().encode(vector.body), ourHeaders(), secret, vectorNow).id).toBe(
      vector.id,
    );
    expect(() => verify(JSON.parse(vector.body), ourHeaders(), secret, vectorNow)).toThrow(
      /raw request body/,
    );
  });

  it('ignores signatures of other versions and malformed entries', () => {
    const good = ourHeaders()['webhook-signature'];
    const headers = {
      ...ourHeaders(),
      'webhook-signature': `v2,${good.slice(3)} v1a,zzz garbage v1, ${good}`,
    };
    expect(verify(vector.body, headers, secret, vectorNow).id).toBe(vector.id);
    const onlyOther = { ...ourHeaders(), 'webhook-signature': `v2,${good.slice(3)}` };
    expect(failure(() => verify(vector.body, onlyOther, secret, vectorNow))).toBe(
      'no_matching_signature',
    );
  });
});

describe('verify: every failure has its reason', () => {
  it('missing_headers: none, or an incomplete set', () => {
    expect(failure(() => verify(vector.body, {}, secret, vectorNow))).toBe('missing_headers');
    const h = ourHeaders();
    expect(
      failure(() =>
        verify(
          vector.body,
          { 'webhook-id': h['webhook-id'], 'webhook-timestamp': h['webhook-timestamp'] },
          secret,
          vectorNow,
        ),
      ),
    ).toBe('missing_headers');
    expect(
      failure(() =>
        verify(
          vector.body,
          {
            'webhook-signature': h['webhook-signature'],
            'webhook-timestamp': h['webhook-timestamp'],
          },
          secret,
          vectorNow,
        ),
      ),
    ).toBe('missing_headers');
    expect(
      failure(() =>
        verify(vector.body, { 'x-webhook-signature': h['x-webhook-signature'] }, secret, vectorNow),
      ),
    ).toBe('missing_headers');
    expect(
      failure(() =>
        verify(
          vector.body,
          { ...h, 'webhook-id': '', 'x-webhook-timestamp': '' },
          secret,
          vectorNow,
        ),
      ),
    ).toBe('missing_headers');
  });

  it('invalid_timestamp: not whole seconds', () => {
    for (const ts of ['abc', '1700000000.5', '-1700000000', '1700000000000000000', '0x10']) {
      expect(
        failure(() =>
          verify(vector.body, { ...ourHeaders(), 'webhook-timestamp': ts }, secret, vectorNow),
        ),
      ).toBe('invalid_timestamp');
    }
    expect(
      failure(() =>
        verify(
          vector.body,
          { 'x-webhook-timestamp': 'soon', 'x-webhook-signature': 'sha256=00' },
          secret,
          vectorNow,
        ),
      ),
    ).toBe('invalid_timestamp');
  });

  it('timestamp_too_old and timestamp_too_new, at the edges of the default 5 minutes', () => {
    const h = ourHeaders();
    expect(verify(vector.body, h, secret, { now: at(vector.timestamp + 300) }).id).toBe(vector.id);
    expect(failure(() => verify(vector.body, h, secret, { now: at(vector.timestamp + 301) }))).toBe(
      'timestamp_too_old',
    );
    expect(verify(vector.body, h, secret, { now: at(vector.timestamp - 300) }).id).toBe(vector.id);
    expect(failure(() => verify(vector.body, h, secret, { now: at(vector.timestamp - 301) }))).toBe(
      'timestamp_too_new',
    );
    // Milliseconds do not count: the timestamp is in whole seconds.
    expect(verify(vector.body, h, secret, { now: at(vector.timestamp + 300) + 999 }).id).toBe(
      vector.id,
    );
    expect(verify(vector.body, h, secret, { now: new Date(at(vector.timestamp)) }).id).toBe(
      vector.id,
    );
  });

  it('uses the clock by default and honours a configured tolerance', () => {
    const h = ourHeaders();
    expect(withClock(at(vector.timestamp + 299), () => verify(vector.body, h, secret).id)).toBe(
      vector.id,
    );
    expect(
      withClock(at(vector.timestamp + 301), () => failure(() => verify(vector.body, h, secret))),
    ).toBe('timestamp_too_old');
    expect(
      verify(vector.body, h, secret, { now: at(vector.timestamp + 3600), toleranceSeconds: 3600 })
        .id,
    ).toBe(vector.id);
    expect(
      failure(() =>
        verify(vector.body, h, secret, { now: at(vector.timestamp + 11), toleranceSeconds: 10 }),
      ),
    ).toBe('timestamp_too_old');
    expect(
      failure(() =>
        verify(vector.body, h, secret, { now: at(vector.timestamp - 11), toleranceSeconds: 10 }),
      ),
    ).toBe('timestamp_too_new');
    expect(
      verify(vector.body, h, secret, { now: at(vector.timestamp), toleranceSeconds: 0 }).id,
    ).toBe(vector.id);
  });

  it('checks the timestamp before the signature, and the legacy one too', () => {
    const legacy = {
      'x-webhook-timestamp': String(vector.timestamp),
      'x-webhook-signature': ourHeaders()['x-webhook-signature'],
    };
    expect(
      failure(() => verify(vector.body, legacy, secret, { now: at(vector.timestamp + 301) })),
    ).toBe('timestamp_too_old');
    expect(
      failure(() => verify(vector.body, legacy, secret, { now: at(vector.timestamp - 301) })),
    ).toBe('timestamp_too_new');
  });

  it('no_matching_signature: wrong secret, tampered body, id or timestamp, truncated signature', () => {
    const h = ourHeaders();
    expect(failure(() => verify(vector.body, h, generateSecret(), vectorNow))).toBe(
      'no_matching_signature',
    );
    expect(
      failure(() => verify(vector.body.replace('ticket', 'tickets'), h, secret, vectorNow)),
    ).toBe('no_matching_signature');
    expect(
      failure(() => verify(vector.body, { ...h, 'webhook-id': 'evt_other' }, secret, vectorNow)),
    ).toBe('no_matching_signature');
    expect(
      failure(() =>
        verify(
          vector.body,
          { ...h, 'webhook-timestamp': String(vector.timestamp + 1) },
          secret,
          vectorNow,
        ),
      ),
    ).toBe('no_matching_signature');
    expect(
      failure(() =>
        verify(
          vector.body,
          { ...h, 'webhook-signature': h['webhook-signature'].slice(0, -4) },
          secret,
          vectorNow,
        ),
      ),
    ).toBe('no_matching_signature');
    expect(
      failure(() => verify(vector.body, { ...h, 'webhook-signature': 'v1,' }, secret, vectorNow)),
    ).toBe('no_matching_signature');
    const legacy = {
      'x-webhook-timestamp': String(vector.timestamp),
      'x-webhook-signature': 'sha256=' + 'ab'.repeat(32),
    };
    expect(failure(() => verify(vector.body, legacy, secret, vectorNow))).toBe(
      'no_matching_signature',
    );
    expect(
      failure(() =>
        verify(
          vector.body,
          {
            ...legacy,
            'x-webhook-signature': independentLegacy(secret, vector.timestamp, vector.body),
          },
          secret,
          vectorNow,
        ),
      ),
    ).toBe('no_matching_signature');
  });

  it('invalid_secret: not base64, empty, or no secret at all, whatever the request carries', () => {
    for (const bad of ['whsec_not base64!', 'whsec_', '', 'whsec_%%%%']) {
      expect(failure(() => verify(vector.body, ourHeaders(), bad, vectorNow))).toBe(
        'invalid_secret',
      );
      expect(failure(() => verify(vector.body, {}, bad, vectorNow))).toBe('invalid_secret');
    }
    expect(failure(() => verify(vector.body, ourHeaders(), [], vectorNow))).toBe('invalid_secret');
    expect(failure(() => verify(vector.body, ourHeaders(), [secret, 'whsec_?'], vectorNow))).toBe(
      'invalid_secret',
    );
    // Imported secrets of the wrong shape are as much a mistake as a broken whsec_.
    for (const bad of ['short-secret', 'x'.repeat(129), `${'a'.repeat(30)}\n`, `${'é'.repeat(30)}`])
      expect(failure(() => verify(vector.body, ourHeaders(), bad, vectorNow))).toBe(
        'invalid_secret',
      );
  });

  it('keys an imported secret by its UTF-8 bytes, as Hookline signs with it', () => {
    const plain = 'legacy-fastapi-secret-0123456789';
    const headers = signatureHeaders({
      id: vector.id,
      eventType: 'ticket.created',
      timestamp: vector.timestamp,
      body: vector.body,
      keys: [decodeSecret(plain)],
    });
    // Signed independently of signing.ts: HMAC keyed by the string's bytes.
    const expected = createHmac('sha256', Buffer.from(plain, 'utf8'))
      .update(`${vector.id}.${vector.timestamp}.${vector.body}`)
      .digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
    expect(verify(vector.body, headers, plain, vectorNow).id).toBe(vector.id);
    const legacyOnly = {
      'x-webhook-timestamp': headers['x-webhook-timestamp'],
      'x-webhook-signature': headers['x-webhook-signature'],
    };
    expect(verifySignature(vector.body, legacyOnly, plain, vectorNow).scheme).toBe('legacy');
    // A bare base64 string is an imported secret too: its bytes, not what it decodes to.
    expect(
      failure(() => verify(vector.body, ourHeaders(), secret.slice('whsec_'.length), vectorNow)),
    ).toBe('no_matching_signature');
  });

  it('is a typed Error with a message and a stable reason', () => {
    const err = new WebhookVerificationError('timestamp_too_old');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('WebhookVerificationError');
    expect(err.message).toMatch(/older/);
  });
});
