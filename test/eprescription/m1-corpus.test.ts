// The authored corpus (test/fixtures/m1/{valid,hostile,invalid}): every file has an expectation
// here, and a file without one fails the suite.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseM1 } from '../../src/eprescription/m1/parse.ts';
import { decideExport, EXPORT_RULE_CODES, type ExportRuleCode } from '../../src/eprescription/rules.ts';
import { messageErrorCode, type MessageErrorCode } from '../../src/xml/errors.ts';

const dir = (name: string): string => fileURLToPath(new URL(`../fixtures/m1/${name}/`, import.meta.url));
const read = (folder: string, file: string): Buffer => readFileSync(`${dir(folder)}${file}`);

/** The day the corpus' export decisions are judged on. */
const NOW = new Date('2026-03-02T10:00:00+01:00');
const ctx = { now: NOW, dispensingsSoFar: 0, recalled: false, patientRestricted: false };

type Item = 'Legemiddelpakning' | 'LegemiddelMerkevare' | 'LegemiddelVirkestoff' | 'Legemiddeldose' | 'Legemiddelblanding' | 'Naringsmiddel' | 'MedForbMatr' | 'Brystprotese';

const VALID: Record<string, { item: Item; reasons: ExportRuleCode[] }> = {
  '01-pakning-hydrokortison.xml': { item: 'Legemiddelpakning', reasons: [] },
  '02-merkevare-fludrokortison.xml': { item: 'LegemiddelMerkevare', reasons: [] },
  '03-virkestoff-atorvastatin.xml': { item: 'LegemiddelVirkestoff', reasons: [] },
  '04-pakning-amlodipin-reiterasjon.xml': { item: 'Legemiddelpakning', reasons: [] },
  '05-pakning-natalizumab-sykehus.xml': { item: 'Legemiddelpakning', reasons: [] },
  '06-legemiddeldose.xml': { item: 'Legemiddeldose', reasons: [] },
  '07-magistral.xml': { item: 'Legemiddelblanding', reasons: ['NO-EXPORT-MAGISTRAL'] },
  '08-handelsvare-naringsmiddel.xml': { item: 'Naringsmiddel', reasons: ['NO-EXPORT-MERCHANDISE'] },
  '09-handelsvare-medforbmatr.xml': { item: 'MedForbMatr', reasons: ['NO-EXPORT-MERCHANDISE'] },
  '10-handelsvare-brystprotese.xml': { item: 'Brystprotese', reasons: ['NO-EXPORT-MERCHANDISE'] },
  '11-uten-markedsforingstillatelse.xml': { item: 'Legemiddelpakning', reasons: ['NO-EXPORT-UNLICENSED'] },
  '12-reseptgruppe-a.xml': { item: 'Legemiddelpakning', reasons: ['NO-EXPORT-GROUP-A'] },
  '13-reseptgruppe-b.xml': { item: 'Legemiddelpakning', reasons: ['NO-EXPORT-GROUP-B'] },
  '14-reseptgruppe-k-kosttilskudd.xml': { item: 'Legemiddelpakning', reasons: ['NO-EXPORT-GROUP-K'] },
  '15-last-resept.xml': { item: 'Legemiddelpakning', reasons: ['NO-EXPORT-LOCKED'] },
  '16-vergeinnsynsreservasjon.xml': { item: 'Legemiddelpakning', reasons: ['NO-EXPORT-GUARDIAN-RESERVATION'] },
  '17-rekvirert-i-legens-navn.xml': { item: 'Legemiddelpakning', reasons: ['NO-EXPORT-LOCKED', 'NO-EXPORT-DOCTORS-NAME'] },
  '18-til-egen-praksis.xml': { item: 'Legemiddelpakning', reasons: ['NO-EXPORT-OWN-PRACTICE'] },
  '19-utlopt.xml': { item: 'Legemiddelpakning', reasons: ['NO-EXPORT-EXPIRED'] },
  '20-tidligste-utlevering-fram-i-tid.xml': { item: 'Legemiddelpakning', reasons: ['NO-EXPORT-NOT-YET-DISPENSABLE'] },
  '21-mange-grunner.xml': {
    item: 'Legemiddelpakning',
    reasons: ['NO-EXPORT-GROUP-A', 'NO-EXPORT-LOCKED', 'NO-EXPORT-GUARDIAN-RESERVATION', 'NO-EXPORT-DOCTORS-NAME', 'NO-EXPORT-EXPIRED'],
  },
  '22-dose-etter-behov.xml': { item: 'Legemiddelpakning', reasons: [] },
  '23-prefiks-mh-m1-fs.xml': { item: 'Legemiddelpakning', reasons: [] },
  '24-uvanlige-prefiks.xml': { item: 'Legemiddelpakning', reasons: [] },
  '25-blandet-prefiks-og-standard.xml': { item: 'Legemiddelpakning', reasons: [] },
  '26-d-nummer.xml': { item: 'Legemiddelpakning', reasons: [] },
  '27-fiendtlige-navn.xml': { item: 'Legemiddelpakning', reasons: [] },
  '28-utlending-eea-ekspedering.xml': { item: 'Legemiddelpakning', reasons: [] },
  '29-iso-8859-1.xml': { item: 'Legemiddelpakning', reasons: [] },
  '30-utf8-bom.xml': { item: 'LegemiddelMerkevare', reasons: [] },
  '31-kompakt-uten-mellomrom.xml': { item: 'LegemiddelVirkestoff', reasons: [] },
  '32-cdata-kommentarer-utvidelse.xml': { item: 'Legemiddelpakning', reasons: [] },
  '33-windows-1252.xml': { item: 'Legemiddelpakning', reasons: [] },
  '34-veterinaer.xml': { item: 'Legemiddelpakning', reasons: ['NO-EXPORT-VETERINARY'] },
  '35-reseptgruppe-kyrillisk-a.xml': { item: 'Legemiddelpakning', reasons: ['NO-EXPORT-GROUP-UNKNOWN'] },
  '36-forskrivningsdato-fram-i-tid.xml': { item: 'Legemiddelpakning', reasons: ['NO-EXPORT-NOT-YET-DISPENSABLE'] },
};

interface Refusal {
  status: number;
  issue: string;
  error: MessageErrorCode;
  /** The element path the Problem must name; omitted where no element exists yet (bytes, DOCTYPE). */
  at?: string;
}

const RESEPT = 'MsgHead.Document.RefDoc.Content.Resept';
const DOK = `${RESEPT}.ReseptDokLegemiddel`;
const PAKNING = `${DOK}.Forskrivning.Legemiddelpakning`;

const HOSTILE: Record<string, Refusal> = {
  'xxe-fil.xml': { status: 400, issue: 'security', error: 'xml-doctype' },
  'xxe-http.xml': { status: 400, issue: 'security', error: 'xml-doctype' },
  'billion-laughs.xml': { status: 400, issue: 'security', error: 'xml-doctype' },
  'doctype-uskyldig.xml': { status: 400, issue: 'security', error: 'xml-doctype' },
  'doctype-ekstern-dtd.xml': { status: 400, issue: 'security', error: 'xml-doctype' },
  'doctype-smaa-bokstaver.xml': { status: 400, issue: 'security', error: 'xml-doctype' },
  'entity-uten-doctype.xml': { status: 400, issue: 'structure', error: 'xml-malformed', at: 'MsgHead.MsgInfo.Patient.FamilyName' },
  'html-entity.xml': { status: 400, issue: 'structure', error: 'xml-malformed', at: 'MsgHead.MsgInfo.Patient.FamilyName' },
  'dobbel-attributt.xml': { status: 400, issue: 'structure', error: 'xml-malformed', at: PAKNING },
  'dobbel-reseptgruppe.xml': { status: 400, issue: 'structure', error: 'unexpected-element', at: `${PAKNING}.Reseptgruppe[1]` },
  'to-resepter.xml': { status: 400, issue: 'structure', error: 'unexpected-element', at: `${RESEPT}[1]` },
  // An older-version Resept in the first Document beside a current one in the second: still two prescriptions.
  'to-resepter-ulike-versjoner.xml': { status: 400, issue: 'structure', error: 'unexpected-element', at: 'MsgHead.Document[0].RefDoc.Content.Resept' },
  'innhold-etter-rot.xml': { status: 400, issue: 'structure', error: 'xml-malformed' },
  'kontrolltegn.xml': { status: 400, issue: 'structure', error: 'xml-malformed' },
  'tegnreferanse-nul.xml': { status: 400, issue: 'structure', error: 'xml-malformed' },
};

const INVALID: Record<string, Refusal> = {
  'avkuttet.xml': { status: 400, issue: 'structure', error: 'xml-malformed', at: 'MsgHead.Document.RefDoc.Content' },
  'tom.xml': { status: 400, issue: 'structure', error: 'xml-malformed' },
  'ikke-xml.xml': { status: 400, issue: 'structure', error: 'xml-malformed' },
  'feil-rot-resept-uten-msghead.xml': { status: 400, issue: 'structure', error: 'wrong-root', at: 'Resept' },
  'msghead-uten-navnerom.xml': { status: 400, issue: 'structure', error: 'wrong-root', at: 'MsgHead' },
  'feil-meldingstype-m10.xml': { status: 400, issue: 'not-supported', error: 'unsupported-message-type', at: 'MsgHead.MsgInfo.Type' },
  'ukjent-m1-versjon.xml': { status: 400, issue: 'not-supported', error: 'unsupported-version', at: RESEPT },
  'ukjent-msghead-versjon.xml': { status: 400, issue: 'not-supported', error: 'unsupported-version', at: 'MsgHead' },
  'feil-migversion.xml': { status: 400, issue: 'not-supported', error: 'unsupported-version', at: 'MsgHead.MsgInfo.MIGversion' },
  'forskrivning-gammel-versjon.xml': { status: 400, issue: 'not-supported', error: 'unsupported-version', at: `${DOK}.Forskrivning` },
  'mangler-utloper.xml': { status: 400, issue: 'required', error: 'missing-element', at: `${RESEPT}.Utloper` },
  'mangler-msgid.xml': { status: 400, issue: 'required', error: 'missing-element', at: 'MsgHead.MsgInfo.MsgId' },
  'mangler-legemiddel.xml': { status: 400, issue: 'required', error: 'missing-element', at: `${DOK}.Forskrivning` },
  'mangler-pasient.xml': { status: 400, issue: 'required', error: 'missing-element', at: 'MsgHead.MsgInfo.Patient' },
  'pasient-uten-identifikasjon.xml': { status: 400, issue: 'required', error: 'missing-element', at: 'MsgHead.MsgInfo.Patient.Ident' },
  'mangler-hpr.xml': { status: 400, issue: 'required', error: 'missing-element', at: 'MsgHead.MsgInfo.Sender.Organisation.HealthcareProfessional.Ident' },
  'mangler-reseptgruppe.xml': { status: 400, issue: 'required', error: 'missing-element', at: `${PAKNING}.Reseptgruppe` },
  'reseptgruppe-uten-kode.xml': { status: 400, issue: 'value', error: 'invalid-value', at: `${PAKNING}.Reseptgruppe` },
  'ugyldig-dato.xml': { status: 400, issue: 'value', error: 'invalid-value', at: `${RESEPT}.Utloper` },
  'ugyldig-boolsk.xml': { status: 400, issue: 'value', error: 'invalid-value', at: `${RESEPT}.Frikort` },
  'negativ-reiterasjon.xml': { status: 400, issue: 'value', error: 'invalid-value', at: `${DOK}.Reiterasjon` },
  'antall-null.xml': { status: 400, issue: 'value', error: 'invalid-value', at: `${DOK}.Antall` },
  'antall-med-komma.xml': { status: 400, issue: 'value', error: 'invalid-value', at: `${DOK}.Antall` },
  'ukjent-element.xml': { status: 400, issue: 'structure', error: 'unexpected-element', at: `${RESEPT}.Hastesak` },
  'element-i-feil-navnerom.xml': { status: 400, issue: 'structure', error: 'unexpected-element', at: `${PAKNING}.Varenr` },
  'begge-reseptdok.xml': { status: 400, issue: 'structure', error: 'unexpected-element', at: `${RESEPT}.ReseptDokHandelsvare` },
  'ubundet-prefiks.xml': { status: 400, issue: 'structure', error: 'xml-malformed', at: PAKNING },
  'ugyldig-utf8.xml': { status: 400, issue: 'invalid', error: 'xml-encoding' },
  'utf16.xml': { status: 400, issue: 'invalid', error: 'xml-encoding' },
  'feil-deklarert-koding.xml': { status: 400, issue: 'invalid', error: 'xml-encoding' },
  'ukjent-koding.xml': { status: 400, issue: 'invalid', error: 'xml-encoding' },
  'latin1-deklarert-som-utf8.xml': { status: 400, issue: 'invalid', error: 'xml-encoding' },
  // The reverse: declared ISO-8859-1, written in UTF-8; read as declared, the names would be mojibake.
  'utf8-deklarert-som-latin1.xml': { status: 400, issue: 'invalid', error: 'xml-encoding' },
};

describe('the authored M1 corpus', () => {
  it('has an expectation for every file, and at least 30 authored messages', () => {
    expect(readdirSync(dir('valid')).sort()).toEqual(Object.keys(VALID).sort());
    expect(readdirSync(dir('hostile')).sort()).toEqual(Object.keys(HOSTILE).sort());
    expect(readdirSync(dir('invalid')).sort()).toEqual(Object.keys(INVALID).sort());
    expect(Object.keys(VALID).length + Object.keys(HOSTILE).length + Object.keys(INVALID).length).toBeGreaterThanOrEqual(30);
  });

  it('covers every drug type, every goods type and every export rule that lies in the M1', () => {
    const items = new Set(Object.values(VALID).map((v) => v.item));
    expect([...items].sort()).toEqual(
      ['Brystprotese', 'Legemiddelblanding', 'Legemiddeldose', 'LegemiddelMerkevare', 'Legemiddelpakning', 'LegemiddelVirkestoff', 'MedForbMatr', 'Naringsmiddel'].sort(),
    );
    const reasons = new Set(Object.values(VALID).flatMap((v) => v.reasons));
    // Decided on what the prescription chain or FEST says, not on the M1 alone (the pipeline's and rules' tests hold those).
    const contextOnly = [
      'NO-EXPORT-RECALLED',
      'NO-EXPORT-PATIENT-RESTRICTION',
      'NO-EXPORT-NO-DISPENSINGS-LEFT',
      'NO-EXPORT-BEING-DISPENSED',
      'NO-EXPORT-INVALID',
      'NO-EXPORT-UNKNOWN-TO-CHAIN',
      'NO-EXPORT-CHAIN-STATUS',
      'NO-EXPORT-CONTROLLED-UNVERIFIED',
      'NO-EXPORT-PRODUCT-MISMATCH',
    ];
    expect([...reasons].sort()).toEqual(EXPORT_RULE_CODES.filter((c) => !contextOnly.includes(c)).sort());
  });

  describe('valid messages parse and get the expected export decision', () => {
    it.each(Object.entries(VALID))('%s', (file, expected) => {
      const r = parseM1(read('valid', file));
      if (!r.ok) throw new Error(JSON.stringify(r.problem.issues));
      expect(r.warnings).toEqual([]);
      const dok = r.value.resept.reseptDok;
      const item = dok.kind === 'ReseptDokLegemiddel' ? dok.forskrivning.legemiddel.kind : dok.vare?.kind;
      expect(item).toBe(expected.item);
      const decision = decideExport(r.value, ctx);
      expect(decision.reasons.map((x) => x.code)).toEqual(expected.reasons);
      expect(decision.exportable).toBe(expected.reasons.length === 0);
    });
  });

  describe.each([
    ['hostile', HOSTILE],
    ['invalid', INVALID],
  ] as const)('%s messages are refused with a named reason', (folder, table) => {
    it.each(Object.entries(table))('%s', (file, expected) => {
      const r = parseM1(read(folder, file));
      if (r.ok) throw new Error(`${file} was accepted`);
      const first = r.problem.issues[0];
      expect(r.problem.status).toBe(expected.status);
      expect(first?.severity).toBe('error');
      expect(first?.code).toBe(expected.issue);
      expect(messageErrorCode(r.problem)).toBe(expected.error);
      expect(first?.diagnostics).toBeTruthy();
      if (expected.at) expect(first?.expression).toEqual([expected.at]);
      // Nothing from an attacker's entity ever shows up in the answer.
      expect(JSON.stringify(r.problem)).not.toMatch(/root:|passwd|lollol/);
    });
  });
});
