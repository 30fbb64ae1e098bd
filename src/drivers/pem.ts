/** Reading the PEM files TLS options name, with errors that say which option is wrong. */
import { readFileSync } from 'node:fs';

/**
 * The text of a PEM file, read at start-up. `option` names the setting in errors
 * (e.g. `[keystone_authtoken] cafile`); `what` is the PEM block it must hold
 * (`CERTIFICATE`, or `PRIVATE KEY` which also matches `EC PRIVATE KEY`…).
 */
export function readPemFile(file: string, option: string, what: 'CERTIFICATE' | 'PRIVATE KEY'): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${option}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${what}-----`).test(pem)) throw new Error(`${option}: ${file} holds no PEM ${what.toLowerCase()}`);
  return pem;
}
