import { describe, expect, it } from 'vitest';
import { chooseLogFormat, prettyLine } from '../../src/log-format.js';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('log format', () => {
  it('is pretty on a terminal and JSON when piped, unless one is asked for', () => {
    expect(chooseLogFormat(undefined, true)).toBe('pretty');
    expect(chooseLogFormat(undefined, false)).toBe('json');
    expect(chooseLogFormat('json', true)).toBe('json');
    expect(chooseLogFormat('pretty', false)).toBe('pretty');
  });

  it('comes from HOOKLINE_LOG_FORMAT or --log-format, and refuses other values', () => {
    expect(loadConfig({}).logFormat).toBeUndefined();
    expect(loadConfig({ HOOKLINE_LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(loadConfig({ HOOKLINE_LOG_FORMAT: 'json' }, { logFormat: 'pretty' }).logFormat).toBe(
      'pretty',
    );
    expect(() => loadConfig({ HOOKLINE_LOG_FORMAT: 'xml' })).toThrow(ConfigError);
  });

  it('prints a record as time, level, message and its fields', () => {
    const rec = {
      level: 30,
      time: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      pid: 1,
      hostname: 'h',
      service: 'hookline',
      msg: 'Hookline is listening',
      url: 'http://127.0.0.1:8080',
      n: 3,
      reason: 'two words',
    };
    expect(prettyLine(JSON.stringify(rec))).toBe(
      '03:04:05.006 INFO  Hookline is listening  url=http://127.0.0.1:8080 n=3 reason="two words"\n',
    );
  });

  it('puts an error stack on the lines after, and passes a line that is not JSON through', () => {
    const line = prettyLine(
      JSON.stringify({
        level: 50,
        time: 0,
        msg: 'shutdown failed',
        err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' },
      }),
    );
    expect(line).toBe(
      '00:00:00.000 ERROR shutdown failed  err=boom\n    Error: boom\n        at x\n',
    );
    expect(prettyLine('not json')).toBe('not json\n');
  });
});
