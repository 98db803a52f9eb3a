/**
 * The endpoint rules every `createSosClient` applies, in Node and in browsers: exactly one of zone
 * and endpoint, an absolute https URL (plain http only on a loopback host, when allowed), and
 * path-style addressing for IP and loopback hosts. Runtime-neutral.
 * @module
 */
import { SosError } from './errors.ts';
import { sosEndpoint } from './zones.ts';

/** Static credentials (in Node, omit them to use the AWS default chain: environment, profile, ...). */
export interface SosCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The endpoint options both entries share. Give exactly one of `zone` and `endpoint`. */
export interface EndpointOptions {
  /** An Exoscale SOS zone, e.g. `ch-gva-2`; the endpoint becomes `https://sos-<zone>.exo.io`. */
  zone?: string;
  /** Any S3 endpoint URL, e.g. `https://127.0.0.1:8443`. */
  endpoint?: string;
  /** Allow a plain `http://` endpoint, only on a loopback host (for local tests). Default false. */
  allowInsecureHttp?: boolean;
  /** Path-style addressing; default true for IP and loopback endpoints, false otherwise. */
  forcePathStyle?: boolean;
}

/** A checked endpoint. */
export interface ResolvedEndpoint {
  /** The endpoint as the SDK takes it: origin, and a path when the store has one. */
  endpoint: string;
  /** The zone, when one was given (it doubles as the signing region). */
  zone: string | undefined;
  forcePathStyle: boolean;
}

/**
 * Checks the endpoint options.
 * @throws {SosError} `INSECURE_ENDPOINT` for `http://` without `allowInsecureHttp` on a loopback
 *   host; `UNKNOWN_ZONE`; `INVALID_ARGUMENT` for a bad endpoint, or both or neither of zone/endpoint.
 */
export function resolveEndpoint(options: EndpointOptions): ResolvedEndpoint {
  if (typeof options !== 'object' || options === null) {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"options" expected an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
  const { zone, endpoint } = options;
  if ((zone === undefined) === (endpoint === undefined)) {
    throw new SosError('INVALID_ARGUMENT', 'expected exactly one of "zone" and "endpoint"');
  }
  const url = parseEndpoint(zone !== undefined ? sosEndpoint(zone) : endpoint!);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const loopback = isLoopback(host);
  if (url.protocol === 'http:') {
    if (!options.allowInsecureHttp) {
      throw new SosError(
        'INSECURE_ENDPOINT',
        `refusing plain http endpoint ${url.origin}: credentials and data would cross the network unencrypted; use https (set allowInsecureHttp only for a loopback test server)`,
      );
    }
    if (!loopback) {
      throw new SosError(
        'INSECURE_ENDPOINT',
        `refusing plain http endpoint ${url.origin}: allowInsecureHttp applies only to loopback hosts (localhost, 127.0.0.0/8, ::1)`,
      );
    }
  }
  return {
    endpoint: url.origin + (url.pathname === '/' ? '' : url.pathname),
    zone,
    forcePathStyle: options.forcePathStyle ?? (ipVersion(host) !== 0 || loopback),
  };
}

function parseEndpoint(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"endpoint" expected an absolute URL, got ${JSON.stringify(text)}`,
      { cause },
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"endpoint" expected an https:// URL, got protocol ${url.protocol}`,
    );
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"endpoint" must not carry credentials, a query or a fragment: ${url.origin}`,
    );
  }
  return url;
}

/** True for `localhost`, 127.0.0.0/8 and ::1 (also IPv4-mapped). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const version = ipVersion(h);
  if (version === 4) return h.startsWith('127.');
  if (version === 6) return h === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(h) || /^::ffff:127\./.test(h);
  return false;
}

/**
 * 4 or 6 for an IP address literal, 0 for a name (what `node:net`'s `isIP` says, without it).
 * The WHATWG URL parser decides: it rewrites any IPv4 form to dotted decimal and accepts an IPv6
 * literal only when valid, so a host that survives it unchanged as four numbers is IPv4.
 */
export function ipVersion(host: string): 0 | 4 | 6 {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  if (h.includes(':')) {
    try {
      return new URL(`http://[${h}]/`).hostname.length > 2 ? 6 : 0;
    } catch {
      return 0;
    }
  }
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(h)) return 0;
  return h.split('.').every((part) => Number(part) <= 255 && (part === '0' || !part.startsWith('0'))) ? 4 : 0;
}
