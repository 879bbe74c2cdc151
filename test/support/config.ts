/**
 * The configuration tests build their apps and workers with: src/config.ts's defaults, plus
 * what only tests may set (a host resolver for the SSRF guard, see GuardConfig).
 */
import { loadConfig, type Config } from '../../src/config.js';
import type { ResolveHost } from '../../src/net/resolve.js';

/** A Config, plus the test-only hooks the SSRF guard reads (GuardConfig in src/net/resolve.ts). */
export type TestConfig = Config & { resolveHost?: ResolveHost };

/** Defaults plus the overrides given; dev mode on and rate limits off. */
export function testConfig(overrides: Partial<TestConfig> = {}): TestConfig {
  // Rate limits off: a test file makes hundreds of calls a second with one key.
  // The rate-limit tests turn them on with small values of their own.
  return {
    ...loadConfig({}),
    dev: true,
    rateLimitPerMinute: 0,
    publishRateLimitPerMinute: 0,
    portalRateLimitPerMinute: 0,
    ...overrides,
  };
}
