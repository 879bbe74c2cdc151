/**
 * A private PKI for TLS tests, made by the `openssl` command in a temporary
 * directory: a CA, server certificates for given names, and client certificates.
 * Nothing is checked in: every run makes its own keys.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  cert: string;
  key: string;
}

export interface TestPki {
  ca: KeyPair;
  /** A certificate for `names` (DNS names; IP addresses as `IP:…`), signed by the CA. */
  server(names: string[]): KeyPair;
  /** A client certificate (extendedKeyUsage clientAuth) with common name `cn`, signed by the CA. */
  client(cn: string): KeyPair;
  /** A lone EC private key, belonging to no certificate. */
  strayKey(): string;
  /** `sha256:` + hex SHA-256 of a key's public part (SPKI DER), as `openssl pkey -pubout` gives it. */
  fingerprint(keyPem: string): string;
  cleanup(): void;
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-pki-'));
  const run = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Hookline Test CA',
  );
  let n = 0;
  const issue = (subject: string, ext: string): KeyPair => {
    const base = `leaf${++n}`;
    writeFileSync(join(dir, `${base}.ext`), ext);
    run('req', ...ec, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subject);
    run(
      'x509',
      '-req',
      '-in',
      `${base}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${base}.pem`,
      '-days',
      '2',
      '-extfile',
      `${base}.ext`,
    );
    return { cert: read(`${base}.pem`), key: read(`${base}.key`) };
  };
  return {
    ca: { cert: read('ca.pem'), key: read('ca.key') },
    server: (names) =>
      issue(
        `/CN=${names[0]}`,
        `subjectAltName=${names.map((x) => (x.startsWith('IP:') ? x : `DNS:${x}`)).join(',')}\nextendedKeyUsage=serverAuth\n`,
      ),
    client: (cn) => issue(`/CN=${cn}`, 'extendedKeyUsage=clientAuth\n'),
    strayKey() {
      const f = `stray${++n}.key`;
      run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f);
      return read(f);
    },
    fingerprint(keyPem) {
      const f = `fp${++n}.key`;
      writeFileSync(join(dir, f), keyPem);
      const der = execFileSync('openssl', ['pkey', '-in', f, '-pubout', '-outform', 'DER'], {
        cwd: dir,
      });
      const hex = execFileSync('openssl', ['dgst', '-sha256', '-r'], { input: der })
        .toString('utf8')
        .split(' ')[0];
      return `sha256:${hex}`;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
