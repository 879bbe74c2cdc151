import { describe, expect, it } from 'vitest';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import nacl from 'tweetnacl';
import {
  ed25519Signature,
  formatPublicKey,
  generateSigningSeed,
  parsePublicKey,
  publicKeyBytes,
  verifyEd25519,
} from '../../src/core/ed25519.js';
import { generateSecret, signatureHeaders } from '../../src/core/signing.js';
import { verifySignature, WebhookVerificationError } from '../../sdk/index.js';

// RFC 8032 section 7.1, TEST 1 and TEST 2: seed, public key, message, signature.
const RFC8032 = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

const vector = {
  id: 'evt_01hzzzzzzzzzzzzzzzzzzzzz',
  timestamp: 1700000000,
  body: '{"id":"evt_01hzzzzzzzzzzzzzzzzzzzzz","type":"ticket.created","timestamp":"2023-11-14T22:13:20.000Z","data":{"n":1}}',
};
const signed = (v: typeof vector) => Buffer.from(`${v.id}.${v.timestamp}.${v.body}`);

describe('ed25519 signing keys', () => {
  it('derives the RFC 8032 public keys and signatures', () => {
    for (const t of RFC8032) {
      const seed = Buffer.from(t.seed, 'hex');
      expect(publicKeyBytes(seed).toString('hex')).toBe(t.pub);
      // The RFC signs the bare message (ours prefixes id and timestamp): tweetnacl checks the vector.
      const pair = nacl.sign.keyPair.fromSeed(seed);
      expect(Buffer.from(pair.publicKey).toString('hex')).toBe(t.pub);
      const sig = nacl.sign.detached(Buffer.from(t.msg, 'hex'), pair.secretKey);
      expect(Buffer.from(sig).toString('hex')).toBe(t.sig);
    }
  });

  it('signs "{id}.{timestamp}.{body}" as node:crypto and tweetnacl verify it', () => {
    const seed = Buffer.from(RFC8032[0].seed, 'hex');
    const sig = Buffer.from(
      ed25519Signature(seed, vector.id, vector.timestamp, vector.body),
      'base64',
    );
    const pub = Buffer.from(RFC8032[0].pub, 'hex');
    const spki = createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]),
      format: 'der',
      type: 'spki',
    });
    expect(nodeVerify(null, signed(vector), spki, sig)).toBe(true);
    expect(nacl.sign.detached.verify(signed(vector), sig, pub)).toBe(true);
    // ed25519 is deterministic: the same signature tweetnacl makes from the same seed.
    const pair = nacl.sign.keyPair.fromSeed(seed);
    expect(Buffer.from(nacl.sign.detached(signed(vector), pair.secretKey))).toEqual(sig);
    expect(verifyEd25519(pub, vector.id, vector.timestamp, vector.body, sig)).toBe(true);
    expect(verifyEd25519(pub, vector.id, vector.timestamp + 1, vector.body, sig)).toBe(false);
  });

  it('formats and parses whpk_ public keys', () => {
    const seed = generateSigningSeed();
    const text = formatPublicKey(seed);
    expect(text).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    expect(parsePublicKey(text)).toEqual(publicKeyBytes(seed));
    expect(parsePublicKey('whpk_AAAA')).toBeUndefined();
    expect(parsePublicKey('whpk_not base64!')).toBeUndefined();
  });
});

describe('v1a in webhook-signature', () => {
  const secret = generateSecret();
  const seed = Buffer.from(RFC8032[1].seed, 'hex');
  const publicKey = 'whpk_' + Buffer.from(RFC8032[1].pub, 'hex').toString('base64');
  const headers = (scheme: 'hmac' | 'ed25519' | 'both', seeds: Buffer[] = [seed]) =>
    signatureHeaders({
      ...vector,
      eventType: 'ticket.created',
      keys: [Buffer.from(secret.slice(6), 'base64')],
      scheme,
      signingSeeds: seeds,
    });
  const now = { now: vector.timestamp * 1000 };

  it('carries v1, v1a or both by scheme', () => {
    expect(headers('hmac')['webhook-signature']).toMatch(/^v1,[^ ]+$/);
    expect(headers('ed25519')['webhook-signature']).toMatch(/^v1a,[^ ]+$/);
    expect(headers('both')['webhook-signature']).toMatch(/^v1,[^ ]+ v1a,[^ ]+$/);
    const other = generateSigningSeed();
    expect(headers('ed25519', [other, seed])['webhook-signature'].split(' ')).toHaveLength(2);
  });

  it('the v1a signature is tweetnacl-verifiable', () => {
    const v1a = headers('ed25519')['webhook-signature'].slice(4);
    const ok = nacl.sign.detached.verify(
      signed(vector),
      Buffer.from(v1a, 'base64'),
      Buffer.from(RFC8032[1].pub, 'hex'),
    );
    expect(ok).toBe(true);
  });

  it('the SDK verifies v1a with the public key, and refuses a wrong key or body', () => {
    expect(verifySignature(vector.body, headers('ed25519'), publicKey, now).scheme).toBe(
      'standard',
    );
    expect(verifySignature(vector.body, headers('both'), [publicKey], now).id).toBe(vector.id);
    // With both, either the secret or the public key is enough.
    expect(verifySignature(vector.body, headers('both'), secret, now).id).toBe(vector.id);
    const wrong = formatPublicKey(generateSigningSeed());
    expect(() => verifySignature(vector.body, headers('ed25519'), wrong, now)).toThrow(
      WebhookVerificationError,
    );
    expect(() => verifySignature(vector.body + ' ', headers('ed25519'), publicKey, now)).toThrow(
      /No signature/,
    );
    // A v1 HMAC is never checked against a public key, nor v1a against a secret.
    expect(() => verifySignature(vector.body, headers('hmac'), publicKey, now)).toThrow(
      /No signature/,
    );
    expect(() => verifySignature(vector.body, headers('ed25519'), secret, now)).toThrow(
      /No signature/,
    );
    expect(() => verifySignature(vector.body, headers('ed25519'), 'whpk_short', now)).toThrow(
      /public key/,
    );
  });
});
