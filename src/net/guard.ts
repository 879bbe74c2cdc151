/**
 * Where Hookline may send requests, checked when a webhook is saved. The pure
 * address rules live in src/core/ssrf.ts; the same check runs again at every
 * connection in src/net/dispatcher.ts, because DNS answers change after saving.
 */
import { describeBlocked } from '../core/ssrf.js';
import { fieldError, validationFailed } from '../errors.js';
import { BlockedDestinationError, resolveAllowed, type GuardConfig } from './resolve.js';

/** How long saving a webhook waits for DNS before refusing the URL. */
export const SAVE_LOOKUP_TIMEOUT_MS = 10_000;

/**
 * Throws a 422 on `url` when the URL may not be saved: not http(s), http:// outside
 * --dev, credentials in the URL, or (outside --dev) a host that does not resolve or
 * resolves to any refused address. A refused address is a field error on `url`
 * whose `code` is `blocked_destination`.
 */
export async function assertDestinationAllowed(
  url: URL,
  config: GuardConfig,
  opts: { lookupTimeoutMs?: number } = {},
): Promise<void> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw fieldError('url', 'must be an http(s) URL');
  if (url.protocol === 'http:' && !config.dev)
    throw fieldError('url', 'must use https:// (http:// is allowed only with --dev)');
  if (url.username || url.password)
    throw fieldError('url', 'must not contain credentials; use custom_headers instead');
  await assertHostAllowed(url.hostname, config, 'url', opts);
}

/**
 * Throws a 422 on `field` when, outside --dev, `hostname` does not resolve or resolves to
 * any refused address (the code is `blocked_destination` or `dns_failed`).
 */
export async function assertHostAllowed(
  hostname: string,
  config: GuardConfig,
  field: string,
  opts: { lookupTimeoutMs?: number } = {},
): Promise<void> {
  if (config.dev) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    // getaddrinfo has no timeout of its own; a save should not hang on a dead resolver.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error('DNS lookup timed out'), { code: 'ETIMEOUT' })),
        opts.lookupTimeoutMs ?? SAVE_LOOKUP_TIMEOUT_MS,
      );
    });
    await Promise.race([resolveAllowed(hostname, config), timeout]);
  } catch (err) {
    if (err instanceof BlockedDestinationError) {
      const why = err.reason ? describeBlocked(err.reason) : `${hostname} has no address`;
      throw validationFailed([
        { field, code: 'blocked_destination', message: `is a blocked destination: ${why}` },
      ]);
    }
    // Refusing a name that does not resolve now is kinder than a webhook that can only fail.
    const code = (err as { code?: unknown }).code;
    throw validationFailed([
      {
        field,
        code: 'dns_failed',
        message: `the host ${hostname} does not resolve${typeof code === 'string' ? ` (${code})` : ''}`,
      },
    ]);
  } finally {
    clearTimeout(timer);
  }
}
