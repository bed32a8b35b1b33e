// The printable EU-prescription page for the pharmacy counter, rendered from what the EU import stores:
// the official HL7 Europe MPD example run through src/edispensation's own Bundle parser (a MedicationRequest
// with its Patient, Medication and prescriber contained), and the raw Bundle shape as well.
import type { Medication, Patient, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { PERSONAS } from '../../src/demo/personas.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { summaryVocabulary } from '../../src/http/view/vocabulary.ts';
import { dosageText, renderPrescriptionPage, type PrescriptionFacts, type PrescriptionPageInput } from '../../src/view/prescription-page.ts';
import { textOf } from './support/html.ts';
import { mpdBundle, storedMpdRequest } from './support/prescriptions.ts';

const fixture = mpdBundle();

const facts = (over: Partial<PrescriptionFacts> = {}): PrescriptionFacts => ({
  prescriptionId: '10-123EP',
  status: 'active',
  dispensingsAllowed: 1,
  dispensingsDone: 0,
  quantityDispensed: 0,
  validUntil: '2024-12-13',
  earliestDispense: '2024-12-06',
  receivedAt: '2024-12-07T09:30:00Z',
  ...over,
});

const render = (resource: Resource, over: Partial<PrescriptionPageInput> = {}): string =>
  renderPrescriptionPage({
    resource,
    facts: facts(),
    lang: 'nb',
    vocabulary: summaryVocabulary,
    now: new Date('2024-12-08T10:00:00Z'),
    path: '/view/prescription/eu-rx-1',
    shell: { demo: true, csrf: 'c'.repeat(43), user: { name: 'Siri Holm', hpr: '565502372' } },
    ...over,
  });

describe('the EU prescription page', () => {
  it('shows the prescription id to report against, patient, product, dosage and prescriber from the stored resource', () => {
    const page = render(storedMpdRequest());
    const id = textOf(page.slice(page.indexOf('<section class="rx-id"'), page.indexOf('<section class="rx-status"')));
    expect(id).toContain('Resept-ID 10-123EP');
    expect(id).toContain('Oppgis som ReseptId i M10');
    const text = textOf(page);
    expect(text).toContain('Kan utleveres');
    expect(text).toContain('Thomas Engine');
    expect(text).toContain('Født 15.09.1950');
    // A generic prescription: the contained Medication's substance, strength and form name it.
    expect(text).toContain('Legemiddel Cefuroxime 1500 mg/Vial, Powder for solution for injection or infusion');
    expect(text).toContain('ATC J01DC02 (cefuroxime)');
    expect(text).toContain('Legemiddelform Powder for solution for injection or infusion');
    expect(text).toContain('Styrke Cefuroxime 1500 mg/Vial');
    expect(text).toContain('1500 mg intramuscularly every 8 hours for 3 days');
    expect(text).toContain('Meryl Ärztin');
    expect(text).toContain('Rolle Clinical oncologist');
    expect(text).toContain('Virksomhet Dr Ärztin Private Practice');
    expect(text).toContain('Gyldig 06.12.2024 – 13.12.2024');
    expect(text).toContain('Utleveringer 0 av 1 utført, 1 igjen');
    expect(text).toContain('Forskrevet mengde 21 Vial');
    expect(text).toContain('Bytte (generisk) Tillatt');
    expect(text).toContain('Bruksområde Bronchopneumonia caused by bacteria (disorder)');
    expect(page).toContain('<html lang="nb">');
    expect(page).toContain('href="/view/prescription/eu-rx-1?lang=en"');
  });

  it('states a multipack as its items times what one holds (MPD sizeOfItem), not the item count alone', () => {
    const request = storedMpdRequest();
    const med = request.contained!.find((r) => r.resourceType === 'Medication') as Medication;
    med.amount = { numerator: { value: 2, unit: 'Spray container' }, denominator: { value: 1 } };
    med.extension = [
      ...(med.extension ?? []),
      { url: 'https://profiles.ihe.net/PHARM/MPD/StructureDefinition/ihe-ext-medication-sizeofitem', valueQuantity: { value: 150, unit: 'Actuation', system: 'http://standardterms.edqm.eu', code: '15001000' } },
    ];
    const text = textOf(render(request));
    expect(text).toContain('Pakning 2 × 150 Actuation');
    expect(text).not.toMatch(/Pakning 2 Spray container(?! ×)/);
  });

  it('reads the same prescription when the store holds the Bundle instead of the resource', () => {
    const text = textOf(render(structuredClone(fixture)));
    expect(text).toContain('Resept-ID 10-123EP');
    expect(text).toContain('Thomas Engine');
    expect(text).toContain('Meryl Ärztin');
    expect(text).toContain('ATC J01DC02');
  });

  it('says plainly when it may not be dispensed, and why', () => {
    const expired = textOf(render(storedMpdRequest(), { now: new Date('2025-01-10T10:00:00Z') }));
    expect(expired).toContain('Kan ikke utleveres: utløpt 13.12.2024');
    const used = textOf(render(storedMpdRequest(), { facts: facts({ dispensingsDone: 1, status: 'completed' }) }));
    expect(used).toContain('Kan ikke utleveres: Ferdig utlevert, ingen utleveringer igjen');
    const early = textOf(render(storedMpdRequest(), { now: new Date('2024-12-01T10:00:00Z') }));
    expect(early).toContain('Kan ikke utleveres: tidligst 06.12.2024');
  });

  it('renders in English on request', () => {
    const page = render(storedMpdRequest(), { lang: 'en' });
    expect(page).toContain('<html lang="en">');
    expect(textOf(page)).toContain('May be dispensed');
    expect(textOf(page)).toContain('Dispensings 0 of 1 done, 1 left');
  });

  it('shows a Norwegian D-nummer as such and keeps hostile names inert', () => {
    const request = storedMpdRequest();
    const patient = request.contained!.find((r) => r.resourceType === 'Patient') as Patient;
    patient.name = [{ given: ['<script>alert("rx")</script>'], family: PERSONAS.hostile.family }];
    patient.identifier = [{ system: OID.dnr, value: '41018036736' }];
    const page = render(request);
    expect(page).not.toContain('<script>alert');
    expect(page).not.toMatch(/<img/);
    expect(page).toContain('&lt;script&gt;alert(&quot;rx&quot;)&lt;/script&gt;');
    expect(textOf(page)).toContain('D-nummer: 410180 36736');
  });

  it('never follows a reference out of what is stored', () => {
    const request = storedMpdRequest();
    request.subject = { reference: 'https://evil.example/Patient/1', display: 'Shown by display only' };
    const text = textOf(render(request));
    expect(text).toContain('Shown by display only');
    expect(text).not.toContain('Thomas Engine');
  });

  it('says so when the stored resource holds no prescription', () => {
    const text = textOf(render({ resourceType: 'Bundle', type: 'collection', entry: [] }));
    expect(text).toContain('Den lagrede resepten inneholder ingen MedicationRequest');
  });

  it('reads structured dosage when there is no text', () => {
    const d = storedMpdRequest().dosageInstruction!;
    const ctx = { lang: 'nb' as const, vocabulary: summaryVocabulary };
    expect(dosageText(d[0]!, ctx)).toBe('1500 mg, 1 gang hver 8. time, i 3 døgn, Intramuscular route');
    expect(dosageText(d[1]!, { ...ctx, lang: 'en' })).toBe('750 mg–1500 mg, 1 time every 8 h, for 4 days, Intramuscular route');
    expect(dosageText({ text: 'Som avtalt' }, ctx)).toBe('Som avtalt');
    expect(dosageText({}, ctx)).toBeUndefined();
  });
});

describe('units on the counter page', () => {
  it('reads UCUM unity as a count and drops "per one": 100 stk, 500 mg, never "100 1/1" or "500 mg/1"', () => {
    const request = storedMpdRequest();
    const med = (request.contained ?? []).find((c): c is Medication => c.resourceType === 'Medication')!;
    med.amount = { numerator: { value: 100, system: 'http://unitsofmeasure.org', code: '1' }, denominator: { value: 1, system: 'http://unitsofmeasure.org', code: '1' } };
    med.ingredient = [{ itemCodeableConcept: { text: 'metformin' }, strength: { numerator: { value: 500, system: 'http://unitsofmeasure.org', code: 'mg' }, denominator: { value: 1, system: 'http://unitsofmeasure.org', code: '1' } } }];
    const nb = textOf(render(request));
    expect(nb).toContain('Pakning 100 stk');
    expect(nb).toContain('metformin 500 mg');
    expect(nb).not.toMatch(/100 1\/1|500 mg\/1\b/);
    expect(textOf(render(request, { lang: 'en' }))).toContain('100 units');
  });
});
