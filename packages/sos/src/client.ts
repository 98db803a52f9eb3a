/**
 * `createSosClient()`: an `S3Client` for Exoscale SOS or any S3-compatible endpoint, with
 * https enforced, extra CA certificates and defaults that S3-compatible servers accept.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates } from 'node:tls';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { type EndpointOptions, resolveEndpoint, type SosCredentials } from './client-options.ts';
import { ConnectTimedAgent } from './connection.ts';
import { SosError } from './errors.ts';
import { registerReachWatcher } from './reach.ts';
import { sendBodiesInSlices } from './sliced-body.ts';
import { markTimeouts, registerTimeouts, resolveTimeouts, type SosTimeouts } from './timeouts.ts';

/** A CA certificate: PEM text, PEM bytes, or the path of a PEM file. */
export type CaCertificate = string | Uint8Array;

/** Options of {@link createSosClient}. Give exactly one of `zone` and `endpoint`. */
export interface SosClientOptions extends EndpointOptions {
  /** Signing region; default: the zone, else `AWS_REGION`, `AWS_DEFAULT_REGION`, else `us-east-1`. */
  region?: string;
  /** Credentials; default: the AWS SDK's default provider chain. */
  credentials?: S3ClientConfig['credentials'] | SosCredentials;
  /**
   * Extra CA certificates trusted in addition to the system roots (PEM text, PEM bytes or file
   * paths). Default: the file named by `AWS_CA_BUNDLE`, when set.
   */
  ca?: CaCertificate | readonly CaCertificate[];
  /** Most sockets kept open to the endpoint (parallel parts and ranged reads). Default 64. */
  maxSockets?: number;
  /**
   * Time bounds (milliseconds) of every request; each one left out keeps its default: connect
   * 10 s (TCP connect and TLS handshake), idle 30 s, request 10 min (until the response headers,
   * body sent included), cleanup 30 s. See {@link SosTimeouts}. A timeout is retried like other
   * transient faults (the SDK's `maxAttempts`, default 3), then surfaces as `TIMEOUT`: a dead
   * or black-holed endpoint fails after about `maxAttempts × connectMs` plus the SDK's backoff
   * (under a second per retry), 30 s by default.
   */
  timeouts?: Partial<SosTimeouts>;
  /** Further `S3Client` settings; the ones above take precedence. */
  clientConfig?: S3ClientConfig;
}

/**
 * Creates an `S3Client` for SOS or another S3-compatible store.
 *
 * Checksums are computed and validated only when an operation requires them: the SDK's default
 * trailing-checksum chunked uploads are refused by many S3-compatible servers (411).
 * @param options - See {@link SosClientOptions}.
 * @returns A ready `S3Client`.
 * @throws {SosError} `INSECURE_ENDPOINT` for `http://` without `allowInsecureHttp` on a loopback
 *   host; `UNKNOWN_ZONE`; `INVALID_ARGUMENT` for a bad endpoint, both or neither of zone/endpoint,
 *   an unreadable CA file, or a bad timeout.
 * @example
 * const client = createSosClient({ zone: 'ch-gva-2' }); // credentials from AWS_ACCESS_KEY_ID/... or a profile
 * const local = createSosClient({ endpoint: 'https://127.0.0.1:8443', ca: '/tmp/sealstream-s3/tls/cert.pem' });
 */
export function createSosClient(options: SosClientOptions): S3Client {
  const resolved = resolveEndpoint(options);
  const region =
    options.region ??
    resolved.zone ??
    process.env.AWS_REGION ??
    process.env.AWS_DEFAULT_REGION ??
    'us-east-1';
  const extraCa = loadCa(options.ca ?? process.env.AWS_CA_BUNDLE);
  const timeouts = resolveTimeouts(options.timeouts);
  const agent = new ConnectTimedAgent(timeouts.connectMs, new URL(resolved.endpoint).origin, {
    keepAlive: true,
    maxSockets: options.maxSockets ?? 64,
    // `ca` replaces the trust store, so the system roots are listed too: extra CAs add, never narrow.
    // Built once: given as `ca`, every new connection would parse the ~150 certificates again
    // (tens of milliseconds of CPU each) and every request would key its pool by their text.
    ...(extraCa.length > 0
      ? { secureContext: createSecureContext({ ca: [...rootCertificates, ...extraCa] }) }
      : {}),
  });

  const client = new S3Client({
    ...options.clientConfig,
    endpoint: resolved.endpoint,
    region,
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    forcePathStyle: resolved.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      httpsAgent: agent,
      socketTimeout: timeouts.idleMs,
      requestTimeout: timeouts.requestMs,
      throwOnRequestTimeout: true,
    },
  });
  registerTimeouts(client, timeouts);
  markTimeouts(client, new URL(resolved.endpoint).origin);
  // a plain http endpoint (loopback tests) does not go through the https agent
  if (resolved.endpoint.startsWith('https:')) registerReachWatcher(client, agent);
  // parts go to the socket a slice at a time, so TLS never holds a whole part twice
  sendBodiesInSlices(client);
  return client;
}

function loadCa(input: CaCertificate | readonly CaCertificate[] | undefined): string[] {
  if (input === undefined || input === '') return [];
  const list = Array.isArray(input) ? input : [input as CaCertificate];
  return list.map((item, i) => {
    if (item instanceof Uint8Array) return new TextDecoder().decode(item);
    if (typeof item !== 'string') {
      throw new SosError(
        'INVALID_ARGUMENT',
        `"ca[${i}]" expected PEM text, PEM bytes or a file path, got ${typeof item}`,
      );
    }
    if (item.includes('-----BEGIN')) return item;
    let text: string;
    try {
      text = readFileSync(item, 'utf8');
    } catch (cause) {
      throw new SosError(
        'INVALID_ARGUMENT',
        `"ca" file ${item} could not be read: ${(cause as Error).message}`,
        { cause },
      );
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      throw new SosError('INVALID_ARGUMENT', `"ca" file ${item} holds no PEM certificate`);
    }
    return text;
  });
}
