// The profiles Helsebro's outputs claim and are validated against (profiles/ips: IPS 2.0.0 for the patient
// summary, profiles/mpd: HL7 Europe MPD for EU prescriptions and dispensations), read from the very files
// the validators use, so the CapabilityStatement cannot name a profile Helsebro does not hold.
import { readdirSync, readFileSync } from 'node:fs';

const FOLDERS = ['ips/2.0.0', 'mpd'];

/** The implementation guides those folders come from (their ImplementationGuide canonicals). */
export const IMPLEMENTATION_GUIDES = [
  'http://hl7.org/fhir/uv/ips/ImplementationGuide/hl7.fhir.uv.ips',
  'http://hl7.eu/fhir/mpd/ImplementationGuide/hl7.fhir.eu.mpd',
] as const;

let cache: ReadonlyMap<string, readonly string[]> | undefined;

/** Resource type -> canonical URLs of the resource profiles held for it. */
export function supportedProfiles(): ReadonlyMap<string, readonly string[]> {
  if (cache) return cache;
  const byType = new Map<string, string[]>();
  for (const folder of FOLDERS) {
    const dir = new URL(`../../profiles/${folder}/`, import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.startsWith('StructureDefinition-') && f.endsWith('.json')).sort()) {
      const sd = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as { kind?: string; type?: string; url?: string };
      if (sd.kind !== 'resource' || !sd.type || !sd.url) continue;
      byType.set(sd.type, [...(byType.get(sd.type) ?? []), sd.url]);
    }
  }
  cache = byType;
  return byType;
}
