import { describe, expect, it } from 'vitest';
import { assertDestinationAllowed } from '../../src/net/guard.js';
import { HooklineError } from '../../src/errors.js';
import { HOSTILE_URLS, PUBLIC_URLS, tableResolver } from '../support/hostile-urls.js';

const prod = { dev: false, allowCidrs: [] as string[], resolveHost: tableResolver() };

async function refusal(url: string, config = prod): Promise<HooklineError | null> {
  try {
    await assertDestinationAllowed(new URL(url), config);
    return null;
  } catch (err) {
    if (err instanceof HooklineError) return err;
    throw err;
  }
}

describe('save-time destination guard', () => {
  it('refuses every hostile URL with a 422 on url whose code is blocked_destination', async () => {
    for (const { url } of HOSTILE_URLS) {
      const err = await refusal(url);
      expect(err?.status, url).toBe(422);
      expect(err?.details, url).toEqual([
        expect.objectContaining({ field: 'url', code: 'blocked_destination' }),
      ]);
    }
  });

  it('says which address and range refused it', async () => {
    const err = await refusal('https://metadata.google.internal/');
    expect((err?.details as Array<{ message: string }>)[0].message).toContain(
      '169.254.169.254 is in 169.254.0.0/16',
    );
  });

  it('allows public destinations', async () => {
    for (const url of PUBLIC_URLS) expect(await refusal(url), url).toBeNull();
  });

  it('refuses http:// and credentials outside --dev, and a host that does not resolve', async () => {
    expect((await refusal('http://8.8.8.8/'))?.details).toEqual([
      expect.objectContaining({ field: 'url', message: expect.stringContaining('https') }),
    ]);
    expect((await refusal('https://user:pw@8.8.8.8/'))?.details).toEqual([
      expect.objectContaining({ field: 'url' }),
    ]);
    expect((await refusal('ftp://8.8.8.8/'))?.status).toBe(422);
    expect((await refusal('https://nowhere.invalid/'))?.details).toEqual([
      expect.objectContaining({ field: 'url', code: 'dns_failed' }),
    ]);
  });

  it('allows private destinations in --dev, and allow-listed ones outside it', async () => {
    const dev = { ...prod, dev: true };
    expect(await refusal('http://127.0.0.1:3000/', dev)).toBeNull();
    expect(await refusal('https://localhost/', dev)).toBeNull();
    const allowed = { ...prod, allowCidrs: ['169.254.169.254/32'] };
    expect(await refusal('https://metadata.google.internal/', allowed)).toBeNull();
    expect(await refusal('https://169.254.169.253/', allowed)).not.toBeNull();
  });
});

describe('save-time DNS timeout', () => {
  it('refuses a URL whose lookup never answers, instead of hanging the request', async () => {
    const hanging = { ...prod, resolveHost: () => new Promise<never>(() => {}) };
    const started = Date.now();
    let err: HooklineError | undefined;
    try {
      await assertDestinationAllowed(new URL('https://slow.example.test/'), hanging, {
        lookupTimeoutMs: 300,
      });
    } catch (e) {
      err = e as HooklineError;
    }
    expect(err?.details).toEqual([
      expect.objectContaining({
        field: 'url',
        code: 'dns_failed',
        message: expect.stringContaining('ETIMEOUT'),
      }),
    ]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
