/**
 * Where Hookline may send requests. The pure address rules live in
 * src/core/ssrf.ts; this file applies them to a webhook URL when it is saved.
 * (The per-attempt check happens in the connector: src/net/dispatcher.ts.)
 */
import type { Config } from '../config.js';
import { fieldError } from '../errors.js';

/**
 * Throws a 422 on `url` when the URL may not be saved: not http(s), http:// outside
 * --dev, or (outside --dev) a host that resolves to a refused address.
 */
export async function assertDestinationAllowed(url: URL, config: Pick<Config, 'dev' | 'allowCidrs'>): Promise<void> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw fieldError('url', 'must be an http(s) URL');
  if (url.protocol === 'http:' && !config.dev) throw fieldError('url', 'must use https:// (http:// is allowed only with --dev)');
  if (url.username || url.password) throw fieldError('url', 'must not contain credentials; use custom_headers instead');
  // TODO(issue 4): resolve the host and refuse private, loopback, link-local and reserved addresses.
}
