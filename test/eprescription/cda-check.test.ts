// The eHDSI structural check: the official samples (ePrescription and eDispensation) as the reference for
// what passes, and one targeted breakage per rule on a document Helsebro makes, each named by its path.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkEhdsiCda } from '../../src/eprescription/cda-check.ts';
import { convertM1 } from '../../src/eprescription/pipeline.ts';
import { depsFor, fixture, preparedDb } from './support/pipeline.ts';

const EU = fileURLToPath(new URL('../fixtures/edispensation/', import.meta.url));
const ED_FIXTURES = new URL('../fixtures/edispensation/', import.meta.url);

describe('the official samples', () => {
  it('passes the eDispensation samples of four countries', () => {
    const files = readdirSync(ED_FIXTURES).filter((f) => f.startsWith('eD-') && f.endsWith('.xml'));
    expect(files.length).toBe(4);
    for (const f of files) {
      const r = checkEhdsiCda(readFileSync(new URL(f, ED_FIXTURES)));
      expect(r.issues, f).toEqual([]);
      expect(r.kind).toBe('eDispensation');
    }
  });

  it('passes the OpenNCP ePrescription sample, and flags the xsi:schemaLocation of the other', () => {
    expect(checkEhdsiCda(readFileSync(`${EU}eP-L3-lantus-W8.openncp.xml`)).issues).toEqual([]);
    const canesten = checkEhdsiCda(readFileSync(`${EU}eP-L3-canesten-multipart-W7.openncp.xml`));
    expect(canesten.issues.map((i) => i.diagnostics)).toEqual(['xsi:schemaLocation is not allowed']);
  });
});

describe('a document Helsebro makes, broken one rule at a time', () => {
  let cda = '';
  beforeAll(async () => {
    const db = await preparedDb('pglite');
    const r = await convertM1(fixture('pipeline', 'p04-sykehusavdeling-bytteforbud-pasienttelefon.xml'), depsFor(db), { now: new Date('2026-03-02T10:00:00+01:00') });
    if (!r.ok || !r.value.exportable) throw new Error('p04 did not convert');
    cda = r.value.cda;
    expect(checkEhdsiCda(cda).issues).toEqual([]);
  });

  const broken = (from: RegExp | string, to: string): string[] => {
    const changed = cda.replace(from, to);
    expect(changed, `pattern ${String(from)} not found`).not.toBe(cda);
    return checkEhdsiCda(changed).issues.map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);
  };

  it.each<[string, RegExp | string, string, RegExp]>([
    ['the document templateId', '<templateId root="1.3.6.1.4.1.12559.11.10.1.3.1.1.1"/>', '', /No eHDSI ePrescription or eDispensation templateId/],
    ['the LOINC displayName', 'displayName="Prescription for medication"', '', /code\/@displayName is mandatory/],
    ['a time zone on the document time', /<effectiveTime value="(\d{14})\+0000"\/>/, '<effectiveTime value="$1"/>', /needs a time zone/],
    ['the title', /<title>ePrescription \(Norway\)<\/title>/, '<title></title>', /title is empty/],
    ['the patient birth time', /<birthTime value="\d+"\/>/, '<birthTime nullFlavor="UNK"/>', /birthTime is mandatory and may not be a nullFlavor/],
    ['the author function', /<functionCode code="221"/, '<functionCode nullFlavor="NI"', /functionCode is mandatory and may not be a nullFlavor/],
    ['the custodian', /<custodian[\s\S]*?<\/custodian>/, '', /custodian is mandatory/],
    ['the parent document', /<relatedDocument typeCode="XFRM">[\s\S]*?<\/relatedDocument>/, '', /relatedDocument\[@typeCode='XFRM'\] is mandatory/],
    ['the prescription item templateId', '<templateId root="1.3.6.1.4.1.12559.11.10.1.3.1.3.2"/>', '', /lacks templateId 1.3.6.1.4.1.12559.11.10.1.3.1.3.2/],
    ['the manufactured material templateId', '<templateId root="1.3.6.1.4.1.12559.11.10.1.3.1.3.30"/>', '', /lacks templateId 1.3.6.1.4.1.12559.11.10.1.3.1.3.30/],
    ['EDQM for the dose form', /(<pharm:formCode code="\d+" codeSystem=")0\.4\.0\.127\.0\.16\.1\.1\.2\.1/, '$12.16.578.1.12.4.1.1.7448', /formCode\/@codeSystem is '2.16.578.1.12.4.1.1.7448'/],
    ['the supply quantity', /<quantity value="1" unit="1"\/>/, '<quantity nullFlavor="UNK"/>', /supply\/quantity is mandatory and may not be a nullFlavor/],
    ['independentInd false', '<independentInd value="false"/>', '<independentInd value="true"/>', /independentInd\/@value is 'true'/],
    ['the substitution code', /(<value xsi:type="CE" code=")N"/, '$1X"', /value\/@code is 'X'/],
    ['a narrative reference that resolves', 'ID="item-1"', 'ID="item-9"', /reference #item-1 does not point to an ID/],
    ['inert narrative', '<th>Medicine / Legemiddel</th>', '<th>Medicine<script>alert(1)</script></th>', /active content <script>/],
  ])('names a missing or wrong %s', (_what, from, to, expected) => {
    const issues = broken(from, to);
    expect(issues.some((i) => expected.test(i)), issues.join('\n')).toBe(true);
  });

  it('refuses two entries in the prescription section', () => {
    const entry = /<entry typeCode="COMP">[\s\S]*<\/entry>/.exec(cda)![0];
    const issues = broken(entry, `${entry}\n${entry}`);
    expect(issues.some((i) => /entry may occur at most 1 time/.test(i))).toBe(true);
  });

  it('refuses hostile XML before checking anything', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${cda.replace(/^<\?xml[^>]*>/, '')}`;
    const r = checkEhdsiCda(xxe);
    expect(r.ok).toBe(false);
    expect(r.issues[0]?.code).toBe('security');
    expect(checkEhdsiCda('<ClinicalDocument xmlns="urn:hl7-org:v1"/>').issues[0]?.diagnostics).toMatch(/expected ClinicalDocument in urn:hl7-org:v3/);
    expect(checkEhdsiCda('not xml').ok).toBe(false);
  });
});
