/**
 * Debian's Chromium, driven by playwright-core: the one browser the project tests in. There is no
 * skip: without /usr/bin/chromium a browser test fails and says how to install it.
 * @module
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM = process.env.SEALSTREAM_CHROMIUM ?? '/usr/bin/chromium';

/** Options of {@link launchChromium}. */
export interface LaunchOptions {
  /** PEM files of certificates to trust by public key (the local RGW's self-signed certificate). */
  trust?: string[];
  /** Chromium host resolver rules, e.g. `MAP insecure.test 127.0.0.1` (loopback only). */
  hostRules?: string[];
}

/**
 * Launches headless Chromium. Certificates in `trust` are pinned by their public key
 * (`--ignore-certificate-errors-spki-list`), so TLS to the local RGW is verified against exactly
 * that key rather than switched off.
 */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the browser tests cannot run (this is a failure, not a skip). ` +
        "Install Debian's package: apt-get install -y chromium",
    );
  }
  const pins = (options.trust ?? []).map(spkiHash);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      ...(pins.length ? [`--ignore-certificate-errors-spki-list=${pins.join(',')}`] : []),
      ...(options.hostRules?.length ? [`--host-resolver-rules=${options.hostRules.join(',')}`] : []),
    ],
  });
}

/** Base64 SHA-256 of a certificate's SubjectPublicKeyInfo: Chromium's pin format. */
export function spkiHash(pemFile: string): string {
  const cert = new X509Certificate(readFileSync(pemFile));
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
