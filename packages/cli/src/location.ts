/**
 * Command-line locations: a local path, `-` (stdin/stdout), `s3://bucket/key` or
 * `sos://<zone>/bucket/key` (the zone's Exoscale SOS endpoint).
 * @module
 */
// the zones alone: a local command does not load the AWS SDK
import { isSosZone, SOS_ZONES } from '@sealstream/sos/zones';
import { usage } from './exit.ts';

/** Where data comes from or goes to. */
export type Location =
  | { kind: 'stdio' }
  | { kind: 'local'; path: string }
  | {
      kind: 'remote';
      /** The zone of a `sos://` URL. */
      zone: string | undefined;
      bucket: string;
      /** Object key, or a prefix (possibly empty) for recursive copies. */
      key: string;
      /** The name `--encrypt-key` maps use for this store: `s3`, or the zone for `sos://`. */
      alias: string;
    };

/** A remote location. */
export type RemoteLocation = Extract<Location, { kind: 'remote' }>;

/**
 * Parses a location argument.
 * @throws {CliError} usage error for a malformed URL.
 */
export function parseLocation(text: string, what: string): Location {
  if (text === '-') return { kind: 'stdio' };
  // an unset shell variable (`-o "$OUT"`): not a file name, whatever the system answers for it
  if (text === '')
    throw usage(`the ${what} is an empty string, not a path`, 'give a file name, or - for stdio');
  const m = /^(s3|sos):\/\/(.*)$/i.exec(text);
  if (!m) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
      throw usage(
        `${what} ${JSON.stringify(text)}: unsupported URL scheme (use s3://bucket/key or sos://zone/bucket/key)`,
      );
    }
    return { kind: 'local', path: text };
  }
  const scheme = m[1]!.toLowerCase();
  const parts = m[2]!.split('/');
  let zone: string | undefined;
  if (scheme === 'sos') {
    zone = parts.shift();
    if (!zone || !isSosZone(zone)) {
      throw usage(
        `${what} ${JSON.stringify(text)}: sos:// expects a zone first (one of ${SOS_ZONES.join(', ')}), then bucket/key`,
      );
    }
  }
  const bucket = parts.shift() ?? '';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw usage(
      `${what} ${JSON.stringify(text)}: ${bucket === '' ? 'no bucket' : `invalid bucket name ${JSON.stringify(bucket)}`}`,
    );
  }
  return { kind: 'remote', zone, bucket, key: parts.join('/'), alias: zone ?? 's3' };
}

/** The location as the user would write it. */
export function formatLocation(l: Location): string {
  if (l.kind === 'stdio') return '-';
  if (l.kind === 'local') return l.path;
  return l.zone ? `sos://${l.zone}/${l.bucket}/${l.key}` : `s3://${l.bucket}/${l.key}`;
}

/** The same remote location with another key. */
export function withKey(l: RemoteLocation, key: string): RemoteLocation {
  return { ...l, key };
}
