// Idempotency for dispensations. The NCP and pharmacy systems retry; a retry must be the same
// dispensation (one stored row, one M10), while a different dispensation under an identifier already
// used is a sender error worth a 409. Both need a fingerprint that ignores what a retry or an NCP
// translation step may change (display texts, header timestamps, key order, number spelling).
import { createHash } from 'node:crypto';
import type { Coded, Dispensation, DispensedProduct, IdentifierValue, Person, Quantity } from './model.ts';
import { isRetraction } from './model.ts';
import { conflict, type Problem } from '../fhir/outcomes.ts';
import { checkCoding } from './codes.ts';

/** Key under which a dispensation (or its discard, which reuses the identifier) is stored. */
export function idempotencyKey(d: Pick<Dispensation, 'identifier' | 'status'>): string {
  const base = `${d.identifier.system ?? ''}|${d.identifier.value}`;
  return isRetraction(d) ? `${base}|discard` : base;
}

/** SHA-256 over the canonical content; equal for semantically equal dispensations. */
export function dispensationFingerprint(d: Dispensation): string {
  return createHash('sha256').update(canonicalJson(fingerprintContent(d))).digest('hex');
}

export type RepeatVerdict = { kind: 'new' } | { kind: 'replay' } | { kind: 'conflict'; problem: Problem };

/** Compares an incoming dispensation with what is stored under the same idempotency key. */
export function classifyRepeat(incomingFingerprint: string, stored: { fingerprint: string } | undefined): RepeatVerdict {
  if (!stored) return { kind: 'new' };
  if (stored.fingerprint === incomingFingerprint) return { kind: 'replay' };
  return {
    kind: 'conflict',
    problem: conflict('A different dispensation was already received with this identifier', {
      expression: ['MedicationDispense.identifier'],
      details: [checkCoding('DISP-IDENTIFIER-CONFLICT')],
    }),
  };
}

// ---- canonical content ----

function fingerprintContent(d: Dispensation): unknown {
  // A withdrawal means only "withdraw that dispensation": however it is sent again (the same CDA flagged
  // as discard, a MedicationDispense entered-in-error, the $discard operation), it is the same withdrawal.
  if (isRetraction(d)) return { status: 'discarded', identifier: ident(d.identifier), discardOf: d.discardOf ? ident(d.discardOf) : undefined };
  return {
    status: d.status === 'entered-in-error' ? 'discarded' : d.status,
    identifier: ident(d.identifier),
    discardOf: d.discardOf ? ident(d.discardOf) : undefined,
    prescription: {
      identifier: d.prescription.identifier ? ident(d.prescription.identifier) : undefined,
      reference: d.prescription.reference,
    },
    patient: d.patient ? person(d.patient) : undefined,
    whenHandedOver: normaliseTime(d.whenHandedOver),
    product: product(d.product),
    quantity: quantity(d.quantity),
    daysSupply: d.daysSupply ? quantity(d.daysSupply) : undefined,
    substitution: {
      substituted: d.substitution.substituted,
      reason: text(d.substitution.reason),
      originalProduct: d.substitution.originalProduct ? product(d.substitution.originalProduct) : undefined,
    },
    pharmacy: { name: text(d.pharmacy.name), identifiers: idents(d.pharmacy.identifiers), country: d.pharmacy.country?.toUpperCase() },
    pharmacist: d.pharmacist ? person(d.pharmacist) : undefined,
    dosageText: text(d.dosageText),
    lotNumber: text(d.lotNumber),
    customerSubstitutionReservation: d.customerSubstitutionReservation || undefined,
    prescriptionFinished: d.prescriptionFinished || undefined,
    interventions: d.interventions?.length ? d.interventions.map(text) : undefined,
  };
}

const ident = (i: IdentifierValue) => `${(i.system ?? '').trim()}|${i.value.trim()}`;
const idents = (list: IdentifierValue[]) => [...new Set(list.map(ident))].sort();
// Display texts are left out: NCP-A's translate step rewrites them into another language.
const code = (c: Coded | undefined) => (c ? `${c.system.trim()}|${c.code.trim()}` : undefined);
const text = (s: string | undefined) => (s === undefined ? undefined : s.normalize('NFC').replace(/\s+/g, ' ').trim() || undefined);

function person(p: Person): unknown {
  return { family: text(p.family), given: p.given.map(text), identifiers: idents(p.identifiers) };
}

function product(p: DispensedProduct): unknown {
  return {
    name: text(p.name),
    codes: [...new Set(p.codes.map(code))].sort(),
    varenummer: p.varenummer,
    atc: code(p.atc),
    strength: text(p.strength),
    form: code(p.form),
    package: p.package
      ? { description: text(p.package.description), size: p.package.size ? quantity(p.package.size) : undefined, form: code(p.package.form) }
      : undefined,
    reseptgruppe: p.reseptgruppe,
  };
}

function quantity(q: Quantity): unknown {
  // 1, 1.0 and 1.000 are the same amount.
  return { value: Number(q.value.toPrecision(12)), unit: q.code ? `${q.system ?? ''}|${q.code}` : text(q.unit) };
}

/** Instants with an offset compare as UTC; date-only values stay as they are. */
function normaliseTime(value: string): string {
  if (/T/.test(value)) {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  return value;
}

/** JSON with sorted keys and undefined members dropped, so key order never changes the hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
