// The Kjernejournal summary source: ask /status first (as NHN asks clients to), stop there when the
// patient's privacy settings keep the records from us, otherwise read every record type in parallel,
// validate and map.
import type { SummarySource } from '../source.ts';
import type { KjernejournalClient } from './client.ts';
import { mapKjernejournal } from './mapper.ts';
import { parseSearchset, parseStatus } from './parse.ts';
import type { KjReadType, KjRecords, KjStatus } from './types.ts';

/** Reason codes of a withheld Kjernejournal answer (summary narrative has texts for them). */
export const KJ_WITHHELD = {
  reservation: 'kj-reservation',
  restriction: 'kj-restriction',
  blocked: 'kj-blocked',
} as const;

export function withheldReason(status: KjStatus): string | undefined {
  const privacy = status.privacySetting;
  if (privacy?.hasReservationKjernejournal) return KJ_WITHHELD.reservation;
  // A restriction needs the patient's explicit consent, which a generated summary does not have.
  if (privacy?.isRestricted) return KJ_WITHHELD.restriction;
  // Kjernejournal shares no clinical information while the patient blocks any health professional.
  if (privacy?.isBlocked || status.isUserBlocked) return KJ_WITHHELD.blocked;
  return undefined;
}

export async function readKjernejournal(client: KjernejournalClient, nin: string, signal: AbortSignal): Promise<KjRecords | { withheld: string }> {
  // A client that holds everything in one place answers in one call; its records are read only after the
  // status allows it, exactly as when they are asked for one type at a time.
  const all = client.readAll ? await client.readAll(nin, signal) : undefined;
  const status = parseStatus(all ? all.status : await client.status(nin, signal), nin);
  const reason = withheldReason(status);
  if (reason) return { withheld: reason };
  if (!status.hasCriticalInformation) return { status, allergies: [], conditions: [], procedures: [], devices: [], flags: [] };
  const read = <T extends KjReadType>(type: T) =>
    (all ? Promise.resolve(all.records[type]) : client.read(type, nin, signal)).then((raw) => parseSearchset(type, raw, nin));
  const [allergies, conditions, procedures, devices, flags] = await Promise.all([
    read('AllergyIntolerance'),
    read('Condition'),
    read('Procedure'),
    read('DeviceUseStatement'),
    read('Flag'),
  ]);
  return { status, allergies, conditions, procedures, devices, flags };
}

export function kjernejournalSource(client: KjernejournalClient): SummarySource {
  return {
    name: 'kjernejournal',
    async fetch(patient, signal) {
      const records = await readKjernejournal(client, patient.fnr, signal);
      if ('withheld' in records) return { status: 'withheld', reason: records.withheld };
      return { status: 'ok', resources: mapKjernejournal(records, patient) };
    },
  };
}
