import { describe, expect, it } from 'vitest';
import type { Problem } from '../../src/fhir/outcomes.ts';
import { PRESCRIPTION_ID_SYSTEM } from '../../src/fhir/identifiers.ts';
import { DISPENSE_FINGERPRINT_SYSTEM } from '../../src/edispensation/codes.ts';
import { parseMpdDispense } from '../../src/edispensation/parse-fhir.ts';
import { dispensationFingerprint } from '../../src/edispensation/identity.ts';
import { ADDISON_RX, addison, fixtureJson, HOSTILE } from './support/fixtures.ts';

type Json = Record<string, any>;
const german = (): Json => fixtureJson('edispensation/no-addison-de-mpd-dispense.json');

function problemOf(r: ReturnType<typeof parseMpdDispense>): Problem {
  if (r.ok) throw new Error(`expected a Problem, got ${JSON.stringify(r.value).slice(0, 200)}`);
  return r.problem;
}
const codesOf = (p: Problem) => p.issues.flatMap((i) => i.details?.coding?.map((c) => c.code) ?? []);
const expressionsOf = (p: Problem) => p.issues.flatMap((i) => i.expression ?? []);

describe('parseMpdDispense: official HL7 Europe MPD examples', () => {
  const bundle = fixtureJson('edispensation/Bundle-mpd-400-cefuroxime-scenario.converted.json') as Json;
  const byRef = new Map<string, unknown>(bundle.entry.map((e: Json) => [`${e.resource.resourceType}/${e.resource.id}`, e.resource]));
  const dispenses = bundle.entry.map((e: Json) => e.resource).filter((r: Json) => r.resourceType === 'MedicationDispense');

  it('parses both dispenses of the cefuroxime scenario with references resolved from the bundle', () => {
    expect(dispenses).toHaveLength(2);
    const [first, second] = dispenses.map((d: Json) => parseMpdDispense(d, { resolve: (ref) => byRef.get(ref) }));
    expect(first.ok && second.ok).toBe(true);
    if (!first.ok || !second.ok) return;
    expect(first.value.prescription.reference).toBe('MedicationRequest/400C-prescription-cefuroxime-singleline');
    expect(first.value.product.name).toBe('Cefuroxime MIP 1500 mg, powder for solution for injection or infusion');
    expect(first.value.product.atc?.code).toBe('J01DC02');
    expect(first.value.product.strength).toBe('1500 mg/Vial');
    expect(first.value.product.package?.size).toMatchObject({ value: 10, unit: 'Vial' });
    expect(first.value.quantity).toMatchObject({ value: 1, code: '1' });
    expect(first.value.pharmacy.name).toBe('Su-Bin Pharmacy B');
    expect(first.value.pharmacist).toMatchObject({ family: 'Farmatseut', given: ['Moon'] });
    expect(first.value.whenHandedOver).toBe('2024-12-06T19:54:00Z');
    expect(first.value.recorded).toBe('2024-12-06T19:54:00Z');
    expect(second.value.quantity.value).toBe(3);
    expect(second.value.substitution.substituted).toBe(true);
    // The prescribed product comes from the MedicationRequest the dispense fulfils.
    expect(second.value.substitution.originalProduct?.atc?.code).toBe('J01DC02');
  });

  it('falls back to a content fingerprint as identifier, with a warning, when the dispense has none', () => {
    const a = parseMpdDispense(dispenses[0], { resolve: (ref) => byRef.get(ref) });
    const b = parseMpdDispense(structuredClone(dispenses[0]), { resolve: (ref) => byRef.get(ref) });
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(a.value.identifier.system).toBe(DISPENSE_FINGERPRINT_SYSTEM);
    expect(a.value.identifier.value).toMatch(/^[0-9a-f]{64}$/);
    expect(a.value.identifier).toEqual(b.value.identifier);
    expect(a.warnings.map((w) => w.expression?.[0])).toContain('MedicationDispense.identifier');
    const c = parseMpdDispense(dispenses[1], { resolve: (ref) => byRef.get(ref) });
    expect(c.ok && c.value.identifier.value).not.toBe(a.value.identifier.value);
  });

  it('keeps only the display of a Medication it cannot resolve, with a warning', () => {
    const r = parseMpdDispense(dispenses[0]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.product.name).toBe('Cefuroxime MIP 1500 mg, powder for solution for injection/infusion. N10.');
    expect(r.warnings.some((w) => w.expression?.[0] === 'MedicationDispense.medicationReference')).toBe(true);
  });
});

describe('parseMpdDispense: a German pharmacy dispensing a Norwegian prescription', () => {
  it('reads contained Medication, MedicationRequest, Patient, PractitionerRole, Practitioner and Organization', () => {
    const r = parseMpdDispense(german());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const d = r.value;
    expect(d.source).toBe('fhir-mpd');
    expect(d.status).toBe('completed');
    expect(d.identifier).toEqual({ system: 'https://apotheke-am-markt.example.de/dispense', value: 'AAM-2026-11-20-0042' });
    expect(d.prescription.identifier).toEqual({ system: PRESCRIPTION_ID_SYSTEM, value: ADDISON_RX });
    expect(d.patient?.identifiers).toEqual([{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: addison.fnr }]);
    expect(d.product).toMatchObject({ name: 'Hydrocortison Hoechst 10 mg Tabletten', strength: '10 mg/tablet' });
    expect(d.product.codes).toEqual([{ system: 'http://fhir.de/CodeSystem/ifa/pzn', code: '03127757', display: 'Hydrocortison Hoechst 10 mg N1' }]);
    expect(d.pharmacy).toEqual({ name: 'Apotheke am Markt', identifiers: [{ system: 'https://gematik.de/fhir/sid/telematik-id', value: '3-07.2.1234560000.10' }], country: 'DE' });
    expect(d.pharmacist).toMatchObject({ family: 'Schäfer', given: ['Lena'] });
    expect(d.substitution).toMatchObject({ substituted: true, reason: 'Verordnetes Präparat in Deutschland nicht im Handel', originalProduct: { name: 'Hydrocortone 20 mg tablett' } });
    expect(d.dosageText).toBe('1 tablett morgen og 1/2 tablett ettermiddag');
  });

  it('accepts the prescription as a logical identifier without a contained MedicationRequest', () => {
    const j = german();
    j.authorizingPrescription = [{ identifier: { system: PRESCRIPTION_ID_SYSTEM, value: ADDISON_RX } }];
    const r = parseMpdDispense(j);
    expect(r.ok && r.value.prescription).toEqual({ identifier: { system: PRESCRIPTION_ID_SYSTEM, value: ADDISON_RX } });
  });

  it('takes the pharmacy from Location when no PractitionerRole names it', () => {
    const j = german();
    j.performer = [{ actor: { reference: '#pharmacist' } }];
    j.contained.push({ resourceType: 'Location', id: 'loc', name: 'Apotheke am Markt, Offizin', address: { country: 'de' } });
    j.location = { reference: '#loc' };
    const r = parseMpdDispense(j);
    expect(r.ok && r.value.pharmacy).toMatchObject({ name: 'Apotheke am Markt, Offizin', country: 'DE' });
  });

  it('reads a withdrawal (entered-in-error) as a discard of the same identifier', () => {
    const j = german();
    j.status = 'entered-in-error';
    const r = parseMpdDispense(j);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.status).toBe('entered-in-error');
    expect(r.value.discardOf).toEqual(r.value.identifier);
  });

  it('keeps hostile names as plain data (escaping is the emitters\' job)', () => {
    const j = german();
    j.contained[4].name = HOSTILE.script;
    j.contained[3].name = [{ family: HOSTILE.rtl, given: [HOSTILE.quotes] }];
    const r = parseMpdDispense(j);
    expect(r.ok && r.value.pharmacy.name).toBe(HOSTILE.script);
    expect(r.ok && r.value.pharmacist?.family).toBe(HOSTILE.rtl);
  });

  it('is stable: the same resource with keys in another order has the same fingerprint', () => {
    const a = parseMpdDispense(german());
    const reordered = Object.fromEntries(Object.entries(german()).reverse());
    const b = parseMpdDispense(reordered);
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) expect(dispensationFingerprint(a.value)).toBe(dispensationFingerprint(b.value));
  });
});

describe('parseMpdDispense: malformed and hostile input', () => {
  it.each([
    ['null', null],
    ['an array', [german()]],
    ['a string', 'MedicationDispense'],
    ['another resource type', { resourceType: 'MedicationRequest', status: 'active' }],
    ['a Bundle', { resourceType: 'Bundle', type: 'collection', entry: [] }],
  ])('refuses %s with 400', (_label, input) => {
    const p = problemOf(parseMpdDispense(input));
    expect(p.status).toBe(400);
    expect(expressionsOf(p)).toContain('resourceType');
  });

  it('refuses a top-level __proto__ key (prototype pollution)', () => {
    const j = JSON.parse(`{"resourceType":"MedicationDispense","__proto__":{"polluted":true},"status":"completed"}`);
    const p = problemOf(parseMpdDispense(j));
    expect(p.status).toBe(400);
    expect(expressionsOf(p)).toEqual(['MedicationDispense.__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a nested constructor key inside a contained resource', () => {
    const j = german();
    j.contained[0].code = JSON.parse('{"constructor":{"prototype":{"x":1}}}');
    const p = problemOf(parseMpdDispense(j));
    expect(expressionsOf(p)).toEqual(['MedicationDispense.contained[0].code.constructor']);
  });

  it('refuses absurdly deep nesting', () => {
    const j = german();
    let deep: Json = {};
    j.note = [{ extension: [deep] }];
    for (let i = 0; i < 60; i++) deep = deep.x = {};
    const p = problemOf(parseMpdDispense(j));
    expect(p.status).toBe(400);
    expect(p.issues[0]?.diagnostics).toMatch(/deeper than/);
  });

  it.each([
    ['negative', -1, 'DISP-QUANTITY-INVALID'],
    ['zero', 0, 'DISP-QUANTITY-INVALID'],
  ])('refuses a %s quantity with a stable code', (_label, value, code) => {
    const j = german();
    j.quantity.value = value;
    const p = problemOf(parseMpdDispense(j));
    expect(p.status).toBe(400);
    expect(codesOf(p)).toEqual([code]);
    expect(expressionsOf(p)).toEqual(['MedicationDispense.quantity.value']);
  });

  it.each([
    ['absurdly large', 1e9],
    ['a string', '2'],
    ['infinite (as JSON would give 1e400)', JSON.parse('1e400')],
  ])('refuses a quantity that is %s', (_label, value) => {
    const j = german();
    j.quantity.value = value;
    const p = problemOf(parseMpdDispense(j));
    expect(p.status).toBe(400);
    expect(expressionsOf(p)).toEqual(['MedicationDispense.quantity.value']);
  });

  it('lists every missing required element, each with its location', () => {
    const j = german();
    delete j.quantity;
    delete j.whenHandedOver;
    delete j.subject;
    delete j.performer;
    delete j.medicationReference;
    delete j.authorizingPrescription;
    const p = problemOf(parseMpdDispense(j));
    expect(p.status).toBe(400);
    expect(expressionsOf(p)).toEqual(
      expect.arrayContaining([
        'MedicationDispense.quantity',
        'MedicationDispense.whenHandedOver',
        'MedicationDispense.subject',
        'MedicationDispense.performer',
        'MedicationDispense.medication[x]',
        'MedicationDispense.authorizingPrescription',
      ]),
    );
  });

  it('requires the prescription reference', () => {
    const j = german();
    delete j.authorizingPrescription;
    expect(expressionsOf(problemOf(parseMpdDispense(j)))).toEqual(['MedicationDispense.authorizingPrescription']);
  });

  it('refuses several prescriptions in one dispense with 422 DISP-MULTIPLE-PRESCRIPTIONS', () => {
    const j = german();
    j.authorizingPrescription = [{ reference: '#rx' }, { identifier: { system: PRESCRIPTION_ID_SYSTEM, value: 'b1' } }];
    const p = problemOf(parseMpdDispense(j));
    expect(p.status).toBe(422);
    expect(codesOf(p)).toEqual(['DISP-MULTIPLE-PRESCRIPTIONS']);
  });

  it.each(['declined', 'in-progress', 'cancelled'])('refuses status %s with 422 DISP-STATUS-UNSUPPORTED', (status) => {
    const j = german();
    j.status = status;
    const p = problemOf(parseMpdDispense(j));
    expect(p.status).toBe(422);
    expect(codesOf(p)).toEqual(['DISP-STATUS-UNSUPPORTED']);
  });

  it('refuses a status that is not a FHIR code with 400', () => {
    const j = german();
    j.status = 'utlevert';
    expect(problemOf(parseMpdDispense(j)).issues[0]?.code).toBe('code-invalid');
  });

  it('refuses a withdrawal without identifier', () => {
    const j = german();
    j.status = 'entered-in-error';
    delete j.identifier;
    expect(expressionsOf(problemOf(parseMpdDispense(j)))).toEqual(['MedicationDispense.identifier']);
  });

  it.each(['2026-13-01', '2026-02-30T10:00:00+01:00', '2026-11-20T10:00:00', 'yesterday', '20261120'])('refuses whenHandedOver %s', (when) => {
    const j = german();
    j.whenHandedOver = when;
    expect(expressionsOf(problemOf(parseMpdDispense(j)))).toEqual(['MedicationDispense.whenHandedOver']);
  });

  it('refuses a reference to a contained resource that is not there', () => {
    const j = german();
    j.medicationReference = { reference: '#nope' };
    expect(expressionsOf(problemOf(parseMpdDispense(j)))).toEqual(['MedicationDispense.medicationReference.reference']);
  });

  it('refuses a prescription reference of the wrong type', () => {
    const j = german();
    j.authorizingPrescription = [{ reference: '#pat' }];
    const p = problemOf(parseMpdDispense(j));
    expect(p.issues[0]?.diagnostics).toMatch(/MedicationRequest/);
    j.authorizingPrescription = [{ reference: 'Patient/123' }];
    expect(problemOf(parseMpdDispense(j)).issues[0]?.diagnostics).toMatch(/MedicationRequest/);
  });

  it('refuses a resolver result that smuggles a __proto__ key', () => {
    const j = german();
    j.medicationReference = { reference: 'Medication/evil' };
    const evil = JSON.parse('{"resourceType":"Medication","id":"evil","__proto__":{"x":1},"code":{"text":"x"}}');
    const p = problemOf(parseMpdDispense(j, { resolve: () => evil }));
    expect(p.issues[0]?.code).toBe('security');
  });

  it('refuses oversized text', () => {
    const j = german();
    j.contained[4].name = 'A'.repeat(5000);
    const p = problemOf(parseMpdDispense(j));
    expect(p.issues[0]?.code).toBe('too-long');
    expect(expressionsOf(p)).toEqual(['MedicationDispense.performer[0].actor.organization.name']);
  });

  it('refuses wrongly typed members instead of guessing', () => {
    const j = german();
    j.performer = { actor: { reference: '#role' } };
    expect(expressionsOf(problemOf(parseMpdDispense(j)))).toContain('MedicationDispense.performer');
    const k = german();
    k.substitution = { wasSubstituted: 'yes' };
    expect(expressionsOf(problemOf(parseMpdDispense(k)))).toEqual(['MedicationDispense.substitution.wasSubstituted']);
  });
});
