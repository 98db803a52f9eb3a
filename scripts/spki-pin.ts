/** Chromium's pin of a certificate's public key, to trust one self-signed certificate (the local RGW's). */
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Base64 SHA-256 of the SubjectPublicKeyInfo of the PEM certificate in `pemFile`: the form `--ignore-certificate-errors-spki-list` takes. */
export function spkiPin(pemFile: string): string {
  const spki = new X509Certificate(readFileSync(pemFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
