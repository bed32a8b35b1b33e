// Whose prescription it is, and who wrote it (audit 2, F3, F9, F11, F20). A pharmacist abroad checks the
// patient against an identity document and trusts the prescriber named: an M1 that names its patient by two
// person numbers, or with a birth date the number contradicts, is refused; only the one linked number leaves;
// birth date and sex come from the number and the register before the M1, alike in the server and in
// convert-m1; and HPR details are attached only to the person HPR holds under that number. The fixtures are
// the audit's inputs (test/fixtures/m1/identity/). Address protection in convert-m1 (F10) is
// address-protection-cli.test.ts's.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, Patient, PractitionerRole } from '@medplum/fhirtypes';
import { PERSONAS } from '../../src/demo/personas.ts';
import { pipelineFor, type ConvertSettings } from '../../src/eprescription/cli/convert-file.ts';
import { patientIdentity, prescriberHprConflict, registerIdentityWarnings } from '../../src/eprescription/identity.ts';
import { parseM1 } from '../../src/eprescription/m1/parse.ts';
import { convertM1, type Converted, type PipelineDeps } from '../../src/eprescription/pipeline.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import type { Result } from '../../src/fhir/outcomes.ts';
import type { Conversion } from '../../src/eprescription/pipeline.ts';
import { DEMO_FEST_FILE } from '../../src/registries/fest/demo-file.ts';
import { DEMO_HPR } from '../../src/registries/hpr.ts';
import { buildM1 } from './support/m1-builder.ts';
import { specFor } from './support/m1-spec.ts';
import { depsFor, fixture, preparedDb, TEST_OID, TEST_OPERATOR } from './support/pipeline.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';

const NOW = new Date('2026-12-07T12:00:00+01:00');
const identityFile = (name: string): Buffer => fixture('identity', name);

const cliSettings = (mode: 'demo' | 'production'): ConvertSettings => ({
  mode,
  helsebroOid: TEST_OID,
  operator: TEST_OPERATOR,
  festPath: DEMO_FEST_FILE,
  format: 'both',
  maxBytes: 5_000_000,
  lang: 'en',
});

const converted = (r: Result<Conversion>): Converted => {
  if (!r.ok) throw new Error(JSON.stringify(r.problem.issues));
  if (!r.value.exportable) throw new Error(JSON.stringify(r.value.decision.reasons));
  return r.value;
};
const refusal = (r: Result<Conversion>) => {
  if (r.ok) throw new Error('converted, expected a refusal');
  return { status: r.problem.status, issue: r.problem.issues[0]!, code: r.problem.issues[0]?.details?.coding?.[0]?.code };
};
const resource = <T>(b: Bundle, type: string): T => b.entry!.find((e) => e.resource?.resourceType === type)!.resource as T;
const patientOf = (c: Converted): Patient => resource<Patient>(c.bundle, 'Patient');
const warningCodes = (c: Converted): string[] => c.warnings.map((w) => w.details?.coding?.[0]?.code ?? w.code);
/** The CDA's recordTarget: what the pharmacist reads about the patient. */
const recordTarget = (cda: string): string => /<recordTarget[\s\S]*<\/recordTarget>/.exec(cda)?.[0] ?? '';
const cdaGender = (cda: string): string | undefined => /<administrativeGenderCode code="([MF])"/.exec(cda)?.[1];
const cdaBirth = (cda: string): string | undefined => /<birthTime value="(\d{8})"/.exec(cda)?.[1];

describe('patient identity (F3, F11, F20)', () => {
  let server: PipelineDeps;
  let cliDemo: PipelineDeps;
  let cliProduction: PipelineDeps;
  beforeAll(async () => {
    server = depsFor(await preparedDb('pglite'));
    [cliDemo, cliProduction] = await Promise.all([pipelineFor(cliSettings('demo')), pipelineFor(cliSettings('production'))]);
  });

  it.each(['a28-to-fnr-identer.xml', 'a28b-dnr-foran-fnr.xml'])('refuses %s (more than one FNR/DNR): 422, the Ident named, no number repeated', async (name) => {
    for (const deps of [server, cliDemo]) {
      const r = refusal(await convertM1(identityFile(name), deps, { now: NOW }));
      expect(r.status).toBe(422);
      expect(r.code).toBe('patient-identity-conflict');
      expect(r.issue.expression?.[0]).toMatch(/Patient\.Ident$/);
      expect(r.issue.diagnostics).toContain('MsgHead/MsgInfo/Patient/Ident');
      // English and bokmål in one text: the pipeline does not know who reads it.
      expect(r.issue.diagnostics).toMatch(/person numbers .* \/ M1-en oppgir/);
      expect(r.issue.diagnostics).not.toMatch(/12839410075|05886610019|47896222070/);
    }
  });

  it.each(['a27-pasient-navn-avviker-fra-register.xml', 'a16b-d-nummer-feil-fodselsdato.xml'])(
    'refuses %s (a DateOfBirth the FNR/DNR contradicts): 422 naming DateOfBirth',
    async (name) => {
      for (const deps of [server, cliDemo, cliProduction]) {
        const r = refusal(await convertM1(identityFile(name), deps, { now: NOW }));
        expect(r.status).toBe(422);
        expect(r.code).toBe('patient-identity-conflict');
        expect(r.issue.expression?.[0]).toMatch(/Patient\.DateOfBirth$/);
        expect(r.issue.diagnostics).toContain('MsgHead/MsgInfo/Patient/DateOfBirth');
      }
    },
  );

  it('converts a D-nummer patient whose DateOfBirth and Sex agree with the number: the one D-nummer, its birth date', async () => {
    const c = converted(await convertM1(identityFile('a16-d-nummer.xml'), server, { now: NOW, level1: true }));
    expect(patientOf(c)).toMatchObject({ identifier: [{ system: OID.dnr, value: '47896222070' }], birthDate: '1962-09-07', gender: 'female' });
    expect(recordTarget(c.cda).match(/<id /g)).toHaveLength(1);
    expect(recordTarget(c.cda)).toContain('root="2.16.578.1.12.4.1.4.2" extension="47896222070"');
    expect([cdaBirth(c.cda), cdaGender(c.cda)]).toEqual(['19620907', 'F']);
    await expectSchemaValidCda([c.cda, c.cdaL1!], ['a16 L3', 'a16 L1']);
  });

  it('sends only the linked number: another Ident type of the patient stays out of FHIR and CDA', async () => {
    const xml = buildM1(specFor()).replace(
      /(<Ident>\s*<Id>12839410075<\/Id>\s*<TypeId[^>]*\/>\s*<\/Ident>)/,
      '$1<Ident><Id>12345678</Id><TypeId V="FHN" S="2.16.578.1.12.4.1.1.8116" DN="Felles hjelpenummer"/></Ident>',
    );
    expect(xml).toContain('12345678');
    const c = converted(await convertM1(xml, server, { now: new Date('2026-03-02T10:00:00+01:00') }));
    expect(patientOf(c).identifier).toEqual([{ system: OID.fnr, value: PERSONAS.addison.fnr }]);
    expect(c.cda).not.toContain('12345678');
  });

  it('a name and sex that differ from the register: converted with warnings, the register\'s sex and the number\'s birth date, the M1\'s name', async () => {
    const c = converted(await convertM1(identityFile('a27b-pasient-navn-og-kjonn-avviker.xml'), server, { now: NOW }));
    expect(warningCodes(c)).toEqual(expect.arrayContaining(['REG-NAME-DIFFERS', 'REG-SEX-DIFFERS']));
    expect(patientOf(c)).toMatchObject({ name: [{ family: 'Nordmann', given: ['Kari'] }], gender: 'female', birthDate: '1994-03-12' });
    expect([cdaBirth(c.cda), cdaGender(c.cda)]).toEqual(['19940312', 'F']);
  });

  it('F20: the server and convert-m1 (demo) state the same sex and birth date, from the register over the number', async () => {
    // The ms persona's number has an even sex digit; the register says male. The register wins in both.
    const file = identityFile('a22-sykehus-avdeling-tysabri.xml');
    const outputs = await Promise.all([server, cliDemo].map(async (deps) => converted(await convertM1(file, deps, { now: NOW }))));
    for (const c of outputs) {
      expect(patientOf(c)).toMatchObject({ gender: 'male', birthDate: PERSONAS.ms.birthDate });
      expect([cdaGender(c.cda), cdaBirth(c.cda)]).toEqual(['M', PERSONAS.ms.birthDate.replace(/-/g, '')]);
    }
  });

  it('the M1 Sex comes before the number\'s sex digit when no register answers; the register before the M1 when one does', async () => {
    // The addison persona's number has an even digit (female); this M1 says Sex 1 (male).
    const spec = specFor();
    const xml = buildM1({ ...spec, patient: { ...spec.patient!, sex: '1' } });
    const offline = converted(await convertM1(xml, cliProduction, { now: new Date('2026-03-02T10:00:00+01:00') }));
    expect(patientOf(offline).gender).toBe('male');
    expect(cdaGender(offline.cda)).toBe('M');
    const registered = converted(await convertM1(xml, server, { now: new Date('2026-03-02T10:00:00+01:00') }));
    expect(patientOf(registered).gender).toBe('female');
    expect(warningCodes(registered)).toContain('REG-SEX-DIFFERS');
  });
});

describe('the prescriber against HPR (F9)', () => {
  let server: PipelineDeps;
  beforeAll(async () => {
    server = depsFor(await preparedDb('pglite'));
  });

  it('refuses an M1 whose prescriber is not the person HPR holds under that number: 422, nothing of HPR attached', async () => {
    const r = refusal(await convertM1(identityFile('a22b-forskriver-annet-navn-enn-hpr.xml'), server, { now: NOW }));
    expect(r.status).toBe(422);
    expect(r.code).toBe('prescriber-hpr-mismatch');
    expect(r.issue.expression?.[0]).toMatch(/HealthcareProfessional\.FamilyName$/);
    expect(r.issue.diagnostics).toContain('HPR number 9144889');
    expect(r.issue.diagnostics).not.toContain('Koman');
  });

  it('attaches HPR details when the names agree', async () => {
    const c = converted(await convertM1(identityFile('a22-sykehus-avdeling-tysabri.xml'), server, { now: NOW }));
    expect(resource<PractitionerRole>(c.bundle, 'PractitionerRole').specialty?.[0]?.coding?.[0]).toMatchObject({ code: '1', display: 'Allmennmedisin' });
    expect(c.cda).toContain('<family>Koman</family>');
  });

  it('a prescriber HPR does not know is described from the message, with the HPR-UNKNOWN-PRESCRIBER warning', async () => {
    const c = converted(await convertM1(identityFile('a21b-sykepleier-forskriver.xml'), server, { now: NOW }));
    expect(warningCodes(c)).toContain('HPR-UNKNOWN-PRESCRIBER');
    expect(resource<PractitionerRole>(c.bundle, 'PractitionerRole').specialty ?? []).toEqual([]);
  });

  it('compares family names as people write them, and refuses another name', () => {
    const koman = DEMO_HPR.find((p) => p.hpr === '9144889')!;
    const m1 = parseM1(identityFile('a22-sykehus-avdeling-tysabri.xml'));
    if (!m1.ok) throw new Error('fixture');
    const as = (familyName: string | undefined) => ({ ...m1.value.prescriber, ...(familyName === undefined ? { familyName: undefined } : { familyName }) });
    expect(prescriberHprConflict(as('KOMAN'), koman)).toBeUndefined();
    expect(prescriberHprConflict(as('Koman'), { ...koman, family: 'Lie-Koman' })).toBeUndefined();
    expect(prescriberHprConflict(as(undefined), koman)).toBeUndefined();
    expect(prescriberHprConflict(as('Koman'), undefined)).toBeUndefined();
    expect(prescriberHprConflict(as('Komann'), koman)?.status).toBe(422);
    expect(prescriberHprConflict(as('Berntsen'), koman)?.issues[0]?.details?.coding?.[0]?.code).toBe('prescriber-hpr-mismatch');
  });

  it('every demo prescription and the spec the tests build from name their prescriber as the demo HPR does', async () => {
    const spec = specFor();
    const hpr = DEMO_HPR.find((p) => p.hpr === spec.prescriber.hpr)!;
    expect(hpr.family).toBe(spec.prescriber.family);
    const { DEMO_PRESCRIPTIONS } = await import('../../src/eprescription/demo.ts');
    for (const p of DEMO_PRESCRIPTIONS) expect(DEMO_HPR.find((h) => h.hpr === p.prescriber.hpr)?.family, p.msgId).toBe(p.prescriber.family);
  });
});

describe('identity.ts, pure', () => {
  const m1Of = (name: string) => {
    const r = parseM1(identityFile(name));
    if (!r.ok) throw new Error(name);
    return r.value;
  };

  it('a patient without a person number has no identifier and nothing from a number', () => {
    expect(patientIdentity(undefined)).toMatchObject({ ok: true, value: {} });
  });

  it('the same number twice is one number', () => {
    const p = m1Of('a16-d-nummer.xml').patient!;
    const twice = { ...p, idents: [...p.idents, ...p.idents] };
    expect(patientIdentity(twice)).toMatchObject({ ok: true, value: { identifier: { system: OID.dnr, value: '47896222070' }, numberBirthDate: '1962-09-07' } });
  });

  it('names register differences without refusing', () => {
    const p = m1Of('a27b-pasient-navn-og-kjonn-avviker.xml').patient!;
    const codes = registerIdentityWarnings(p, { resourceType: 'Patient', name: [{ family: 'Solstad', given: ['Ingrid', 'Marie'] }], gender: 'female', birthDate: '1994-03-13' }).map(
      (w) => w.details?.coding?.[0]?.code,
    );
    expect(codes).toEqual(['REG-NAME-DIFFERS', 'REG-SEX-DIFFERS', 'REG-BIRTHDATE-DIFFERS']);
    const same = registerIdentityWarnings({ ...p, familyName: 'SOLSTAD', givenName: 'Ingrid  Marie', sex: undefined }, {
      resourceType: 'Patient',
      name: [{ family: 'Solstad', given: ['Ingrid', 'Marie'] }],
      gender: 'female',
      birthDate: '1994-03-12',
    });
    expect(same).toEqual([]);
  });
});
