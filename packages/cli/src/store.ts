/**
 * Which store to talk to and with what credentials: flags (`--endpoint`, `--zone`, `--ca-bundle`,
 * `--region`, `--profile`, `--allow-http`, timeouts), then the standard AWS environment
 * (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, `AWS_CA_BUNDLE`, `AWS_REGION`, `AWS_PROFILE`, ...),
 * then the profile in the AWS config file, read by the AWS SDK's own loader (so `[services ...]`
 * sections work as in aws-cli: the profile's `services` section's `s3` `endpoint_url` comes before
 * its own `endpoint_url`). Credentials come from the AWS SDK's default chain.
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { createSosClient, isSosError, type SosTimeouts } from '@sealstream/sos';
import { loadSharedConfigFiles } from '@smithy/core/config';
import { CliError, EXIT, usage } from './exit.ts';
import { noteStoreInUse } from './io.ts';
import type { RemoteLocation } from './location.ts';

/** Store flags common to the commands that reach a store. */
export interface StoreFlags {
  endpoint?: string;
  zone?: string;
  /** `--ca` (this CLI's first name) or `--ca-bundle` (aws-cli's). */
  ca?: string;
  caBundle?: string;
  region?: string;
  profile?: string;
  /** `--allow-http`: plain http to a loopback endpoint (a local test server). */
  allowHttp?: boolean;
  /** Seconds. */
  connectTimeout?: string;
  readTimeout?: string;
  requestTimeout?: string;
}

/** The settings of the current profile that say where the store is. */
interface ProfileSettings {
  endpoint_url?: string;
  ca_bundle?: string;
  region?: string;
}

let profile: ProfileSettings | undefined;

/**
 * Reads the current profile of the AWS config file (`AWS_CONFIG_FILE`, default `~/.aws/config`)
 * once, before a command runs: the SDK's loader is asynchronous, {@link clientFor} is not.
 * @param name - `--profile`, which also becomes `AWS_PROFILE` for the SDK's credential chain.
 */
export async function loadProfile(name: string | undefined): Promise<void> {
  if (name !== undefined) process.env.AWS_PROFILE = name;
  const wanted = process.env.AWS_PROFILE || 'default';
  // the loader caches by path; a test run changes the files between runs of one process
  const { configFile } = await loadSharedConfigFiles({ ignoreCache: true });
  const section = (configFile[wanted] ?? {}) as Record<string, string | undefined>;
  const services = section.services === undefined ? {} : (configFile[`services.${section.services}`] ?? {});
  profile = {
    endpoint_url: (services as Record<string, string | undefined>)['s3.endpoint_url'] ?? section.endpoint_url,
    ca_bundle: section.ca_bundle,
    region: section.region,
  };
}

const clients = new Map<string, S3Client>();

/** Parses a timeout flag in seconds (fractions allowed) into milliseconds. */
function timeoutMs(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) {
    throw usage(`${flag} expected seconds, more than 0 and at most 86400, got ${text}`);
  }
  return Math.max(1, Math.round(seconds * 1000));
}

/** The timeouts of the flags, for `createSosClient` (the transport's defaults for the others). */
export function timeoutsOf(flags: StoreFlags): Partial<SosTimeouts> {
  const out: Partial<SosTimeouts> = {};
  const connectMs = timeoutMs(flags.connectTimeout, '--connect-timeout');
  const idleMs = timeoutMs(flags.readTimeout, '--read-timeout');
  const requestMs = timeoutMs(flags.requestTimeout, '--request-timeout');
  if (connectMs !== undefined) out.connectMs = connectMs;
  if (idleMs !== undefined) out.idleMs = idleMs;
  if (requestMs !== undefined) out.requestMs = requestMs;
  return out;
}

/**
 * An S3 client for a location.
 * @throws {CliError} usage error when no endpoint is configured or the settings conflict.
 */
export function clientFor(location: RemoteLocation, flags: StoreFlags): S3Client {
  const settings = profile ?? {};
  if (location.zone !== undefined && flags.endpoint !== undefined) {
    throw usage(`sos://${location.zone}/... names its endpoint; drop --endpoint or use an s3:// URL`);
  }
  if (flags.zone !== undefined && flags.endpoint !== undefined) {
    throw usage('give --zone or --endpoint, not both');
  }
  if (flags.ca !== undefined && flags.caBundle !== undefined)
    throw usage('give --ca-bundle or --ca, not both');
  const zone = location.zone ?? flags.zone;
  const endpoint =
    zone === undefined
      ? (flags.endpoint ??
        nonEmpty(process.env.AWS_ENDPOINT_URL_S3) ??
        nonEmpty(process.env.AWS_ENDPOINT_URL) ??
        settings.endpoint_url)
      : undefined;
  if (zone === undefined && endpoint === undefined) {
    throw usage(
      'no endpoint configured for s3:// locations',
      'use sos://<zone>/bucket/key, --zone ZONE, --endpoint URL, set AWS_ENDPOINT_URL_S3, or endpoint_url in the profile (or its [services] s3 section)',
    );
  }
  const ca = flags.caBundle ?? flags.ca ?? nonEmpty(process.env.AWS_CA_BUNDLE) ?? settings.ca_bundle;
  const region =
    flags.region ??
    nonEmpty(process.env.AWS_REGION) ??
    nonEmpty(process.env.AWS_DEFAULT_REGION) ??
    settings.region;
  const timeouts = timeoutsOf(flags);
  const allowInsecureHttp = flags.allowHttp === true;
  const id = JSON.stringify([zone, endpoint, ca, region, timeouts, allowInsecureHttp]);
  let client = clients.get(id);
  if (!client) {
    noteStoreInUse();
    try {
      client = createSosClient({
        ...(zone !== undefined ? { zone } : { endpoint: endpoint! }),
        ...(ca !== undefined ? { ca } : {}),
        ...(region !== undefined ? { region } : {}),
        ...(allowInsecureHttp ? { allowInsecureHttp } : {}),
        timeouts,
        clientConfig: { maxAttempts: 3 },
      });
    } catch (cause) {
      if (!isSosError(cause, 'INSECURE_ENDPOINT')) throw cause;
      throw new CliError(
        EXIT.USAGE,
        allowInsecureHttp
          ? `refusing plain http endpoint ${endpoint}: --allow-http applies only to this machine (localhost, 127.0.0.0/8, ::1)`
          : `refusing plain http endpoint ${endpoint}: credentials and data would cross the network unencrypted`,
        {
          cause,
          hint: allowInsecureHttp
            ? 'use an https endpoint'
            : 'use an https endpoint; for a test server on this machine (127.0.0.1, ::1, localhost), pass --allow-http',
        },
      );
    }
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
