import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, type Dispatcher } from 'undici';
import {
  BLOCKED_DESTINATION,
  createDeliveryDispatcher,
  isBlockedDestination,
} from '../../src/net/dispatcher.js';
import type { ResolveHost } from '../../src/net/resolve.js';

/** A TCP listener that only counts who connects, then hangs up. */
async function countingListener(host: string, port = 0) {
  const state = {
    connections: 0,
    server: net.createServer((s) => {
      state.connections++;
      s.destroy();
    }),
  };
  await new Promise<void>((resolve, reject) =>
    state.server.once('error', reject).listen(port, host, resolve),
  );
  return {
    ...state,
    get count() {
      return state.connections;
    },
    port: (state.server.address() as net.AddressInfo).port,
  };
}

/** A TLS listener that records the SNI name of each handshake and then refuses it (no certificate needed). */
async function sniListener(host: string, port: number) {
  const names: string[] = [];
  let handshakes = 0;
  const server = tls.createServer({
    SNICallback: (name, cb) => {
      names.push(name);
      cb(new Error('test listener: no certificate'), undefined);
    },
  });
  server.on('secureConnection', () => {});
  server.on('tlsClientError', () => {});
  server.on('connection', () => handshakes++);
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(port, host, resolve),
  );
  return {
    server,
    names,
    get connections() {
      return handshakes;
    },
  };
}

async function attempt(dispatcher: Dispatcher, url: string): Promise<unknown> {
  try {
    const res = await request(url, {
      method: 'POST',
      body: '{}',
      dispatcher,
      headersTimeout: 5000,
    });
    await res.body.dump();
    return null;
  } catch (err) {
    return err;
  }
}

let loopback: Awaited<ReturnType<typeof countingListener>>;
let decoy: Awaited<ReturnType<typeof sniListener>>;
beforeAll(async () => {
  // The attacker's target: 127.0.0.1:P. The "public" address the rebinding name first
  // answers with is 127.0.0.2:P (exempted by allowCidrs), so both answers share the URL's port.
  loopback = await countingListener('127.0.0.1');
  decoy = await sniListener('127.0.0.2', loopback.port);
});
afterAll(async () => {
  loopback?.server.close();
  decoy?.server.close();
});

describe('delivery dispatcher (send-time SSRF guard)', () => {
  it('connects to the address it checked, even when DNS answers 127.0.0.1 next (rebinding)', async () => {
    const answers = ['127.0.0.2', '127.0.0.1', '127.0.0.1', '127.0.0.1'];
    let lookups = 0;
    const resolveHost: ResolveHost = async () => [
      { address: answers[lookups++] ?? '127.0.0.1', family: 4 },
    ];
    const dispatcher = createDeliveryDispatcher({
      dev: false,
      allowCidrs: ['127.0.0.2/32'],
      resolveHost,
    });
    try {
      const before = loopback.count;
      const first = await attempt(dispatcher, `https://rebind.hookline.test:${loopback.port}/hook`);
      // The decoy refuses the TLS handshake, so the request fails, but it went to the checked address,
      // with the URL's host name as SNI, after exactly one lookup.
      expect(first).toBeTruthy();
      expect(isBlockedDestination(first)).toBe(false);
      expect(decoy.names).toEqual(['rebind.hookline.test']);
      expect(lookups).toBe(1);
      // The next connection resolves again, gets 127.0.0.1, and is refused before any socket opens.
      const second = await attempt(
        dispatcher,
        `https://rebind.hookline.test:${loopback.port}/hook`,
      );
      expect(isBlockedDestination(second)).toBe(true);
      expect(loopback.count).toBe(before);
    } finally {
      await dispatcher.close();
    }
  });

  it('refuses a blocked IP literal with code BLOCKED_DESTINATION and opens no connection', async () => {
    const dispatcher = createDeliveryDispatcher({ dev: false, allowCidrs: [] });
    try {
      const before = loopback.count;
      for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '2130706433', 'localhost']) {
        const err = await attempt(dispatcher, `https://${host}:${loopback.port}/`);
        expect(isBlockedDestination(err), host).toBe(true);
      }
      expect(loopback.count).toBe(before);
    } finally {
      await dispatcher.close();
    }
  });

  it('refuses a name with any private answer, and refuses http:// outside --dev', async () => {
    const resolveHost: ResolveHost = async () => [
      { address: '127.0.0.2', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    const dispatcher = createDeliveryDispatcher({
      dev: false,
      allowCidrs: ['127.0.0.2/32'],
      resolveHost,
    });
    try {
      const before = loopback.count;
      expect(
        isBlockedDestination(
          await attempt(dispatcher, `https://two.hookline.test:${loopback.port}/`),
        ),
      ).toBe(true);
      const plain = await attempt(dispatcher, `http://127.0.0.2:${loopback.port}/`);
      expect(isBlockedDestination(plain)).toBe(true);
      expect(loopback.count).toBe(before);
    } finally {
      await dispatcher.close();
    }
  });

  it('exposes the code the worker classifies on, somewhere in the error chain', async () => {
    const dispatcher = createDeliveryDispatcher({ dev: false, allowCidrs: [] });
    try {
      const err = (await attempt(dispatcher, 'https://10.0.0.1/')) as {
        code?: string;
        cause?: { code?: string };
      };
      expect([err.code, err.cause?.code]).toContain(BLOCKED_DESTINATION);
    } finally {
      await dispatcher.close();
    }
  });

  it('does not check anything in --dev', async () => {
    const dispatcher = createDeliveryDispatcher({ dev: true, allowCidrs: [] });
    try {
      const before = loopback.count;
      const err = await attempt(dispatcher, `http://127.0.0.1:${loopback.port}/`);
      expect(isBlockedDestination(err)).toBe(false);
      expect(loopback.count).toBe(before + 1);
    } finally {
      await dispatcher.close();
    }
  });
});
