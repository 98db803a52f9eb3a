/**
 * Exoscale SOS zones and their S3 endpoints.
 * @module
 */
import { SosError } from './errors.ts';

/** The Exoscale zones that offer SOS. */
export const SOS_ZONES = [
  'ch-gva-2',
  'ch-dk-2',
  'de-fra-1',
  'de-muc-1',
  'at-vie-1',
  'at-vie-2',
  'bg-sof-1',
] as const;

/** An Exoscale zone that offers SOS. */
export type SosZone = (typeof SOS_ZONES)[number];

/** True when `name` is one of {@link SOS_ZONES}. */
export function isSosZone(name: string): name is SosZone {
  return (SOS_ZONES as readonly string[]).includes(name);
}

/**
 * The S3 endpoint of an SOS zone.
 * @param zone - A zone from {@link SOS_ZONES}.
 * @returns `https://sos-<zone>.exo.io`
 * @throws {SosError} `UNKNOWN_ZONE` for any other name.
 * @example
 * sosEndpoint('ch-gva-2'); // "https://sos-ch-gva-2.exo.io"
 */
export function sosEndpoint(zone: string): string {
  if (!isSosZone(zone)) {
    throw new SosError(
      'UNKNOWN_ZONE',
      `"zone" expected one of ${SOS_ZONES.join(', ')}, got ${JSON.stringify(zone)}`,
    );
  }
  return `https://sos-${zone}.exo.io`;
}
