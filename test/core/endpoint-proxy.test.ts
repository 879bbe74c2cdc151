import { describe, expect, it } from 'vitest';
import {
  applyEndpointInput,
  endpointAudit,
  endpointView,
  openEndpoint,
} from '../../src/core/endpoint-security.js';
import { createSecretBox } from '../../src/core/secret-box.js';

// proxy_url is stored as the URL without its password plus the password sealed apart
// (docs/endpoint-security.md, "Egress proxy"); the worker gets back exactly what was given.
const box = createSecretBox(Buffer.alloc(32, 1).toString('base64'));

describe('a webhook proxy_url at rest', () => {
  it.each([
    ['http://egress:p%40ss%3Aword@proxy.internal:3128', 'http://egress@proxy.internal:3128'],
    ['http://[fd00::1]:3128', 'http://[fd00::1]:3128'],
    ['http://:only-a-password@10.0.0.7:8080', 'http://10.0.0.7:8080'],
  ])('%s: shown as %s, opened as given', (given, shown) => {
    const stored = applyEndpointInput(box, {}, { proxy_url: given });
    expect(JSON.stringify(stored)).not.toMatch(/p%40ss|only-a-password/);
    expect(endpointView(stored).proxy_url).toBe(shown);
    expect(endpointView(stored).proxy_has_password).toBe(given !== shown);
    expect(endpointAudit({ proxy_url: given })).toEqual({ proxy_url: shown });
    expect(openEndpoint(box, stored).proxyUrl).toBe(new URL(given).href.replace(/\/$/, ''));
  });

  it('null removes it; other fields leave it alone', () => {
    const stored = applyEndpointInput(box, {}, { proxy_url: 'http://proxy.internal:3128' });
    expect(applyEndpointInput(box, stored, { legacy_signature: 'none' }).proxy).toEqual(
      stored.proxy,
    );
    expect(applyEndpointInput(box, stored, { proxy_url: null }).proxy).toBeUndefined();
    expect(openEndpoint(box, {}).proxyUrl).toBeUndefined();
  });
});
