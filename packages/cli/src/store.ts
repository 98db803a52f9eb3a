/**
 * Which store to talk to and with what credentials: flags (`--endpoint`, `--zone`, `--ca`,
 * `--region`, `--profile`), then the standard AWS environment (`AWS_ENDPOINT_URL_S3`,
 * `AWS_ENDPOINT_URL`, `AWS_CA_BUNDLE`, `AWS_REGION`, `AWS_PROFILE`, ...), then the profile's
 * `endpoint_url`, `ca_bundle` and `region` in the AWS config file. Credentials come from the AWS
 * SDK's default chain (environment variables, then the profile's credentials).
 * @module
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { createSosClient } from '@sealstream/sos';
import { usage } from './exit.ts';
import type { RemoteLocation } from './location.ts';

/** Store flags common to the commands that reach a store. */
export interface StoreFlags {
  endpoint?: string;
  zone?: string;
  ca?: string;
  region?: string;
  profile?: string;
}

const clients = new Map<string, S3Client>();

/**
 * An S3 client for a location.
 * @throws {CliError} usage error when no endpoint is configured or the settings conflict.
 */
export function clientFor(location: RemoteLocation, flags: StoreFlags): S3Client {
  if (flags.profile !== undefined) process.env.AWS_PROFILE = flags.profile;
  const profile = profileSettings();
  if (location.zone !== undefined && flags.endpoint !== undefined) {
    throw usage(`sos://${location.zone}/... names its endpoint; drop --endpoint or use an s3:// URL`);
  }
  if (flags.zone !== undefined && flags.endpoint !== undefined) {
    throw usage('give --zone or --endpoint, not both');
  }
  const zone = location.zone ?? flags.zone;
  const endpoint =
    zone === undefined
      ? (flags.endpoint ??
        nonEmpty(process.env.AWS_ENDPOINT_URL_S3) ??
        nonEmpty(process.env.AWS_ENDPOINT_URL) ??
        profile.endpoint_url)
      : undefined;
  if (zone === undefined && endpoint === undefined) {
    throw usage(
      'no endpoint configured for s3:// locations',
      'use sos://<zone>/bucket/key, --zone ZONE, --endpoint URL, or set AWS_ENDPOINT_URL_S3',
    );
  }
  const ca = flags.ca ?? nonEmpty(process.env.AWS_CA_BUNDLE) ?? profile.ca_bundle;
  const region =
    flags.region ??
    nonEmpty(process.env.AWS_REGION) ??
    nonEmpty(process.env.AWS_DEFAULT_REGION) ??
    profile.region;
  const id = JSON.stringify([zone, endpoint, ca, region]);
  let client = clients.get(id);
  if (!client) {
    client = createSosClient({
      ...(zone !== undefined ? { zone } : { endpoint: endpoint! }),
      ...(ca !== undefined ? { ca } : {}),
      ...(region !== undefined ? { region } : {}),
      clientConfig: { maxAttempts: 3 },
    });
    clients.set(id, client);
  }
  return client;
}

/** Closes the sockets of every client made, so the process can exit. */
export function destroyClients(): void {
  for (const c of clients.values()) c.destroy();
  clients.clear();
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** `endpoint_url`, `ca_bundle` and `region` of the current profile in the AWS config file. */
function profileSettings(): Record<string, string | undefined> {
  const file = process.env.AWS_CONFIG_FILE ?? join(homedir(), '.aws', 'config');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const name = process.env.AWS_PROFILE || 'default';
  const wanted = name === 'default' ? ['default', 'profile default'] : [`profile ${name}`];
  const out: Record<string, string | undefined> = {};
  let inSection = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const section = /^\[(.*)\]$/.exec(line);
    if (section) {
      inSection = wanted.includes(section[1]!.trim().replace(/\s+/g, ' '));
      continue;
    }
    const kv = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (inSection && kv && ['endpoint_url', 'ca_bundle', 'region'].includes(kv[1]!)) out[kv[1]!] = kv[2]!;
  }
  return out;
}
