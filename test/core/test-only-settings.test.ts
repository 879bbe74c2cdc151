import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, settings, testOnlySettings } from '../../src/config.js';

describe('test-only settings', () => {
  it('come from HOOKLINE_TEST_* variables and default to 1', () => {
    expect(loadConfig({})).toMatchObject({ retryDelayScale: 1, timeoutScale: 1 });
    const c = loadConfig({
      HOOKLINE_TEST_RETRY_DELAY_SCALE: '0.001',
      HOOKLINE_TEST_TIMEOUT_SCALE: '0.2',
    });
    expect(c).toMatchObject({ retryDelayScale: 0.001, timeoutScale: 0.2 });
  });

  it('refuse a value that is not a number > 0, naming the variable', () => {
    expect(() => loadConfig({ HOOKLINE_TEST_TIMEOUT_SCALE: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ HOOKLINE_TEST_TIMEOUT_SCALE: 'x' })).toThrow(
      /HOOKLINE_TEST_TIMEOUT_SCALE/,
    );
  });

  it('are not CLI settings, so no command has a flag for them', () => {
    const keys = settings.map((s) => s.key);
    for (const t of testOnlySettings) expect(keys).not.toContain(t.key);
  });
});
