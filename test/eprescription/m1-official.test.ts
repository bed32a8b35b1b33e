// Every official sample M1 must parse: the verbatim copies under test/fixtures/m1/official (their sources
// are in SOURCES.md there), so the suite needs nothing outside the clone.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { M1Message } from '../../src/eprescription/m1/model.ts';
import { parseM1 } from '../../src/eprescription/m1/parse.ts';
import { decideExport, type ExportRuleCode } from '../../src/eprescription/rules.ts';
import { documentPayload, parseMsgHead } from '../../src/xml/msghead.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/m1/official/', import.meta.url));

function walk(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** "M1 Resept.xml", "M1 Magistrell resept.xml", "ER-M1-…": M1 and not M10, M14, M15 … */
const isM1File = (path: string): boolean => /^(ER-)?M1(?![0-9.])[^/]*\.xml$/i.test(path.split('/').pop() ?? '');
/** Scenario M9.4s ("M94 Nedlasting av resept.xml") wrap the M1; "ER-M94-…" samples are the bare status payload. */
const isM94File = (path: string): boolean => /^M94 [^/]*\.xml$/i.test(path.split('/').pop() ?? '');

function parseOk(bytes: Buffer, label: string): M1Message {
  const r = parseM1(bytes);
  if (!r.ok) throw new Error(`${label}: ${JSON.stringify(r.problem.issues)}`);
  expect(r.warnings, label).toEqual([]);
  return r.value;
}

/** M1s that M9.4 carries base64-encoded, as the pharmacy downloads them. */
function embeddedM1s(bytes: Buffer, label: string): Buffer[] {
  const head = parseMsgHead(bytes, { expectType: 'ERM94' });
  if (!head.ok) throw new Error(`${label}: ${JSON.stringify(head.problem.issues)}`);
  return head.value.head.documents.flatMap((d) => {
    const p = documentPayload(d);
    if (!p.ok) throw new Error(`${label}: ${JSON.stringify(p.problem.issues)}`);
    return p.value.kind === 'base64' ? [p.value.bytes] : [];
  });
}

describe('official sample M1s (fixture copies): what they say and whether they may go abroad', () => {
  const on = (day: string) => ({ now: new Date(`${day}T12:00:00+02:00`), dispensingsSoFar: 0, recalled: false, patientRestricted: false });
  const cases: [string, string, string, ExportRuleCode[]][] = [
    // file, prescription id, what was prescribed, reasons on a day the prescription was valid
    ['Lege endrer på legemiddelbehandling/M1 Resept.xml', 'ef36537f-563b-4fb1-b93d-1681170f9817', 'Ibux Tab 400 mg', []],
    ['Rekvirent rekvirerer kun resept og leverer ikke PLL/M1 Resept.xml', 'c2883dc2-8eef-4b8e-a80f-167f858425f7', 'Cosylan Mikst 1,7 mg/ml', ['NO-EXPORT-GROUP-B']],
    ['Magistrell resept/M1 Magistrell resept.xml', '88505628-8475-47d9-a8ce-10fc343330c0', 'PAR-SME: Haloperidol 0,5 mg/ml og Morfin 10 mg/ml infusjonsvæske 100 ml', ['NO-EXPORT-MAGISTRAL']],
    ['Magistrell resept/M1 Magistrell resept (sarepta-variant).xml', '88505628-8475-47d9-a8ce-10fc343330c0', 'Smerteblanding:  Infusjonsvæske med Haloperidol 0,5 mg/ml og Morfin 10 mg/ml, 100 ml', ['NO-EXPORT-MAGISTRAL']],
    ['Søknad om godkjenningsfritak til Legemiddelverket/M1 Resept_apotek sender søknad.xml', '717c1879-9271-4828-9c59-1681392408b9', 'Iscador P Serie II Inj væske 1 mg/ml/10 mg/ml/20 mg/ml', ['NO-EXPORT-UNLICENSED']],
    ['Utleverer sender oppgjørskrav til Helfo/M1 Resept1.xml', '3b7e90c8-6b29-4358-a567-180dcb8ab0c6', 'Zyrtec Tab 10 mg', []],
    ['Utleverer sender oppgjørskrav til Helfo/M1 Resept2.xml', '80f0309f-1fb2-43fa-b345-180dcb8ac092', 'Livostin Nesespray 50 mikrog/dose', []],
    ['Utleverer sender oppgjørskrav til Helfo/M1 Resept3.xml', '4b49a8f3-9084-44eb-9ada-180dcb8aca72', 'Livostin Øyedr 0,5 mg/ml', []],
  ];

  it('the fixture folder holds every official M1 listed here', () => {
    expect(walk(FIXTURES).filter(isM1File).map((f) => relative(FIXTURES, f)).sort()).toEqual(cases.map((c) => c[0]).sort());
  });

  it.each(cases)('%s', (file, id, name, reasons) => {
    const m = parseOk(readFileSync(join(FIXTURES, file)), file);
    expect(m.prescriptionId).toBe(id);
    const dok = m.resept.reseptDok;
    if (dok.kind !== 'ReseptDokLegemiddel') throw new Error('official samples are medicinal products');
    const drug = dok.forskrivning.legemiddel;
    expect(drug.kind === 'Legemiddelblanding' ? drug.navn : drug.navnFormStyrke).toBe(name);
    expect(m.patient?.fnr).toMatch(/^\d{11}$/);
    expect(m.prescriber.hpr).toMatch(/^\d+$/);
    const validDay = m.resept.forskrivningsdato;
    expect(decideExport(m, on(validDay)).reasons.map((r) => r.code)).toEqual(reasons);
    // A year and a day later every one of them has expired.
    const expired = decideExport(m, on(`${Number(m.resept.utloper.slice(0, 4)) + 1}${m.resept.utloper.slice(4)}`));
    expect(expired.reasons.map((r) => r.code)).toContain('NO-EXPORT-EXPIRED');
  });

  it('reads the blue-prescription refund and repeats of the Helfo scenario', () => {
    const m = parseOk(readFileSync(join(FIXTURES, 'Utleverer sender oppgjørskrav til Helfo/M1 Resept1.xml')), 'Resept1');
    expect(m.resept.reseptDok).toMatchObject({
      refHjemmel: { code: '200', display: '§5-14 §2' },
      refKode: { code: 'R97', oid: '2.16.578.1.12.4.1.1.7170', display: 'Allergisk rinitt' },
      reiterasjon: 3,
    });
    expect(m.resept.reseptDok.kind === 'ReseptDokLegemiddel' && m.resept.reseptDok.merknad).toBeUndefined();
  });

  it('reads the M1s embedded in the fixture M9.4 copies', () => {
    const ids = walk(FIXTURES)
      .filter(isM94File)
      .flatMap((file) => embeddedM1s(readFileSync(file), file).map((b) => parseOk(b, file).prescriptionId))
      .sort();
    expect(ids).toEqual(['717c1879-9271-4828-9c59-1681392408b9', 'c2883dc2-8eef-4b8e-a80f-167f858425f7']);
  });
});
