import { describe, expect, it } from 'vitest';
import { parseFrameAncestors } from '../../src/core/frame-ancestors.js';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('portal frame-ancestors', () => {
  it("defaults to 'self' and accepts keywords and http(s) origins, space-separated", () => {
    expect(loadConfig({}).portalFrameAncestors).toBe("'self'");
    expect(
      parseFrameAncestors(
        "  'self'   https://app.example.com http://127.0.0.1:3000 https://*.example.org ",
      ),
    ).toBe("'self' https://app.example.com http://127.0.0.1:3000 https://*.example.org");
    expect(parseFrameAncestors("'none'")).toBe("'none'");
    expect(parseFrameAncestors('http://[::1]:8080')).toBe('http://[::1]:8080');
  });

  it('refuses at start anything a CSP source list would read differently', () => {
    for (const bad of [
      '',
      'self',
      '*',
      'app.example.com',
      'ftp://example.com',
      'https://example.com/path',
      'https://example.com:99999',
      'https://user@example.com',
      "https://example.com;script-src 'unsafe-inline'",
      "'none' https://example.com",
      "'unsafe-inline'",
    ])
      expect(() => parseFrameAncestors(bad), bad).toThrow();
    expect(() => loadConfig({ HOOKLINE_PORTAL_FRAME_ANCESTORS: 'example.com' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({}, { portalFrameAncestors: 'https://ok.example' })).not.toThrow();
  });
});
