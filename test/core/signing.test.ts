import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createHmac } from 'node:crypto';
import {
  decodeSecret,
  generateSecret,
  secretProblem,
  signatureHeaders,
} from '../../src/core/signing.js';

// Fixed vectors: any change to how Hookline signs breaks these on purpose.
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const vector = {
  id: 'evt_01hzzzzzzzzzzzzzzzzzzzzz',
  timestamp: 1700000000,
  body: '{"id":"evt_01hzzzzzzzzzzzzzzzzzzzzz","type":"ticket.created","timestamp":"2023-11-14T22:13:20.000Z","data":{"n":1}}',
};

describe('signing', () => {
  it('produces headers that the public standardwebhooks package verifies', () => {
    const headers = signatureHeaders({
      ...vector,
      eventType: 'ticket.created',
      keys: [decodeSecret(secret)],
    });
    const wh = new Webhook(secret);
    // standardwebhooks checks the timestamp against the clock; give it the vector's time.
    const realNow = Date.now;
    Date.now = () => vector.timestamp * 1000;
    try {
      expect(wh.verify(vector.body, headers)).toEqual(JSON.parse(vector.body));
    } finally {
      Date.now = realNow;
    }
  });

  it('matches the standardwebhooks package signature byte for byte', () => {
    const theirs = new Webhook(secret).sign(
      vector.id,
      new Date(vector.timestamp * 1000),
      vector.body,
    );
    const ours = signatureHeaders({ ...vector, eventType: 'x.y', keys: [decodeSecret(secret)] });
    expect(ours['webhook-signature']).toBe(theirs);
  });

  it('signs with every active secret during a rotation, current first', () => {
    const next = generateSecret();
    const headers = signatureHeaders({
      ...vector,
      eventType: 'x.y',
      keys: [decodeSecret(next), decodeSecret(secret)],
    });
    const parts = headers['webhook-signature'].split(' ');
    expect(parts).toHaveLength(2);
    expect(parts[1]).toBe(
      new Webhook(secret).sign(vector.id, new Date(vector.timestamp * 1000), vector.body),
    );
  });

  it('writes the legacy x-webhook-signature as hex HMAC of "{timestamp}.{body}"', () => {
    const headers = signatureHeaders({
      ...vector,
      eventType: 'ticket.created',
      keys: [decodeSecret(secret)],
    });
    const expected = createHmac('sha256', decodeSecret(secret))
      .update(`${vector.timestamp}.${vector.body}`)
      .digest('hex');
    expect(headers['x-webhook-signature']).toBe(`sha256=${expected}`);
    expect(headers['x-webhook-event']).toBe('ticket.created');
    expect(headers['x-webhook-timestamp']).toBe('1700000000');
    expect(headers['webhook-id']).toBe(vector.id);
  });

  it('generates secrets of the documented shape and rejects others', () => {
    expect(secretProblem(generateSecret())).toBeUndefined();
    expect(secretProblem(generateSecret(24))).toBeUndefined();
    expect(secretProblem(generateSecret(64))).toBeUndefined();
    expect(secretProblem('whsec_' + Buffer.alloc(23).toString('base64'))).toMatch(/24 to 64 bytes/);
    expect(secretProblem('whsec_' + Buffer.alloc(65).toString('base64'))).toMatch(/24 to 64 bytes/);
    expect(secretProblem('sk_abc')).toMatch(/whsec_/);
    expect(secretProblem('whsec_not base64!')).toMatch(/base64/);
  });

  it('accepts imported plain secrets of 24 to 128 printable ASCII characters, and no others', () => {
    for (const good of ['a'.repeat(24), 'b'.repeat(128), 'It is a secret: with spaces & {}!'])
      expect(secretProblem(good), good).toBeUndefined();
    expect(secretProblem('a'.repeat(23))).toMatch(/24 to 128 .*got 23/);
    expect(secretProblem('a'.repeat(129))).toMatch(/got 129/);
    expect(secretProblem(`${'a'.repeat(30)}\u0007`)).toMatch(/control or non-ASCII/);
    expect(secretProblem(`${'a'.repeat(30)}\t`)).toMatch(/control or non-ASCII/);
    expect(secretProblem(`${'a'.repeat(30)}é`)).toMatch(/control or non-ASCII/);
    expect(secretProblem(` ${'a'.repeat(30)}`)).toMatch(/either end/);
    // whsec_ always means Standard Webhooks: a broken one is not taken for a plain secret.
    expect(secretProblem(`whsec_${'!'.repeat(40)}`)).toMatch(/base64/);
    expect(secretProblem(`whsec_${Buffer.alloc(16).toString('base64')}`)).toMatch(/got 16/);
  });

  it('keys whsec_ secrets by their decoded bytes and imported ones by their UTF-8 bytes', () => {
    expect(decodeSecret(secret)).toEqual(Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'));
    const plain = 'It is a secret: with spaces & {}!';
    expect(decodeSecret(plain)).toEqual(Buffer.from(plain, 'utf8'));
  });

  it('signs the legacy header as timestamped (default), over the body alone, or not at all', () => {
    const plain = 'legacy-fastapi-secret-0123456789';
    const base = { ...vector, eventType: 'ticket.created', keys: [decodeSecret(plain)] };
    const hmac = (text: string) => createHmac('sha256', plain).update(text).digest('hex');
    expect(signatureHeaders(base)['x-webhook-signature']).toBe(
      `sha256=${hmac(`${vector.timestamp}.${vector.body}`)}`,
    );
    expect(signatureHeaders({ ...base, legacy: 'timestamped' })['x-webhook-signature']).toBe(
      `sha256=${hmac(`${vector.timestamp}.${vector.body}`)}`,
    );
    expect(signatureHeaders({ ...base, legacy: 'body' })['x-webhook-signature']).toBe(
      `sha256=${hmac(vector.body)}`,
    );
    const none = signatureHeaders({ ...base, legacy: 'none' });
    expect(none).not.toHaveProperty('x-webhook-signature');
    expect(none['webhook-signature']).toMatch(/^v1,/);
    expect(none['x-webhook-event']).toBe('ticket.created');
  });
});
