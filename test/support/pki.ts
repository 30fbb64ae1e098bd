/**
 * Throw-away certificates for TLS tests, made with the openssl command: a CA, a
 * server and a client certificate signed by it (the server's for 127.0.0.1 /
 * localhost), and a second CA that signed nothing here (a "wrong" CA).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  /** PEM of the CA that signed the server certificate. */
  caFile: string;
  /** PEM of an unrelated CA. */
  otherCaFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  /** A client certificate signed by the CA (for brokers that require one). */
  clientCertFile: string;
  clientKeyFile: string;
  remove(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function makeTestPki(label: string): TestPki {
  const dir = mkdtempSync(join(tmpdir(), `warre-pki-${label}-`));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  for (const name of ['ca', 'other-ca']) {
    openssl('req', '-x509', ...EC, '-days', '2', '-subj', `/CN=Warre test ${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`);
  }
  openssl('req', ...EC, '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName = IP:127.0.0.1, DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'san.ext',
    '-out',
    'server.pem',
  );
  openssl('req', ...EC, '-subj', '/CN=warre-client', '-keyout', 'client.key', '-out', 'client.csr');
  openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'client.pem');
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server.key'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
