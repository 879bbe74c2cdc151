import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { redactDbMessage, redactText, serializeError } from '../../src/log-redact.js';
import { describeError } from '../../src/cli/remote.js';

const pem =
  '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----';

describe('redactText', () => {
  it('masks every credential shape of docs/security.md and keeps the prefix', () => {
    const text = `a whsec_QUJDREVGR0g= b whpk_abc+/= c hk_abcdef123 d hlp_XyZ09 e ${pem} f`;
    expect(redactText(text)).toBe('a whsec_*** b whpk_*** c hk_*** d hlp_*** e [PEM block] f');
    expect(redactText('authorization: Bearer eyJ.abc-_~ and basic dTpw==')).toBe(
      'authorization: Bearer *** and basic ***',
    );
  });

  it('leaves ordinary text alone', () => {
    expect(redactText('webhook wh_01abc disabled (hook_name)')).toBe(
      'webhook wh_01abc disabled (hook_name)',
    );
    // A scheme's name in prose is not a credential.
    expect(redactText('uses basic auth, or a bearer token')).toBe(
      'uses basic auth, or a bearer token',
    );
    expect(redactText('Basic dXNlcjpwYXNz and bearer 0a1b2c3d')).toBe('Basic *** and bearer ***');
  });
});

describe('redactDbMessage', () => {
  it('keeps the names PostgreSQL quotes and masks the values', () => {
    expect(redactDbMessage('new row for relation "webhooks" violates check constraint "c1"')).toBe(
      'new row for relation "webhooks" violates check constraint "c1"',
    );
    expect(redactDbMessage('invalid input syntax for type integer: "hunter2"')).toBe(
      'invalid input syntax for type integer: "***"',
    );
  });
});

describe('serializeError', () => {
  it('keeps what failed and where, drops what the adapters attach, follows causes', () => {
    const db = Object.assign(new Error('value "s3cr3t" is out of range for type integer'), {
      code: '22003',
      constraint: 'x_check',
      detail: 'Failing row contains (s3cr3t)',
      params: ['s3cr3t'],
      query: 'INSERT …',
      where: 'SQL function',
    });
    const out = serializeError(new Error('wrapped', { cause: db })) as Record<string, any>;
    expect(JSON.stringify(out)).not.toContain('s3cr3t');
    expect(out.cause).toMatchObject({ code: '22003', constraint: 'x_check' });
    expect(out.cause).not.toHaveProperty('params');
    expect(out.cause.stack).toMatch(/^Error: value "\*\*\*" is out of range/);
  });
});

describe('createLogger', () => {
  it('redacts an error logged alone, its message included', () => {
    const lines: string[] = [];
    const log = createLogger(
      { logLevel: 'info', logFormat: 'json' },
      { write: (s) => void lines.push(s) },
    );
    log.error(
      Object.assign(new Error('invalid input syntax for type json: "tok"'), { code: '22P02' }),
    );
    log.info({ headers: { 'x-a': 'v1' }, body: 'v2', note: 'Bearer v3' }, 'with hk_v4');
    expect(lines.join('')).not.toMatch(/tok|v1|v2|v3|v4/);
    expect(JSON.parse(lines[0]).msg).toBe('invalid input syntax for type json: "***"');
  });
});

describe("the CLI's error line", () => {
  it('masks what a server or a URL echoes back', () => {
    const line = describeError(new Error('refused Bearer abcDEF123 for hk_live0123456789'));
    expect(line).toBe('refused Bearer *** for hk_***');
  });
});
