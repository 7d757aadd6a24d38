/**
 * A throwaway PKI for TLS tests, made with the `openssl` CLI: a private CA and a server
 * certificate it signed (by default for IP:127.0.0.1 and DNS:localhost), valid for two days. The directory
 * is removed when the returned object is closed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type TestPki = {
  dir: string;
  /** PEM of the CA certificate, and its file (what an agent gets with `--ca`). */
  caPem: string;
  caFile: string;
  /** The relay's certificate (leaf only) and key files: TLS_CERT_FILE / TLS_KEY_FILE. */
  certFile: string;
  keyFile: string;
  close(): void;
};

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

export type TestPkiOptions = {
  /** Common name of the CA; default "Arena Relay test CA". */
  name?: string;
  /** subjectAltName of the server certificate; default "IP:127.0.0.1,DNS:localhost". */
  san?: string;
};

/** Creates a CA and a server certificate signed by it, in a fresh temp directory. */
export function createTestPki(options: TestPkiOptions = {}): TestPki {
  const name = options.name ?? 'Arena Relay test CA';
  const dir = mkdtempSync(join(tmpdir(), 'arena-relay-pki-'));
  const ca = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'];
  openssl(
    dir,
    ['req', '-x509', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2'].concat([
      '-subj',
      `/CN=${name}`,
      ...ca,
    ]),
  );
  openssl(dir, [
    'req',
    '-new',
    ...EC_KEY,
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  ]);
  writeFileSync(
    join(dir, 'server.ext'),
    [
      `subjectAltName=${options.san ?? 'IP:127.0.0.1,DNS:localhost'}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
    ].join('\n'),
  );
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    '0x01',
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.pem',
  ]);
  const caFile = join(dir, 'ca.pem');
  return {
    dir,
    caPem: readFileSync(caFile, 'utf8'),
    caFile,
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
