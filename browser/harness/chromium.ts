/**
 * Debian's Chromium, driven by playwright-core: the one browser the project tests in. There is no
 * skip: without /usr/bin/chromium a browser test fails and says how to install it.
 * @module
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { spkiPin } from '../../scripts/spki-pin.ts';

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
  const pins = (options.trust ?? []).map(spkiPin);
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
