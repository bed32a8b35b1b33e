// The clinician view's pure rendering: $summary documents (built by the real assembler from each demo
// persona's source data) to HTML, without a server or a browser.
import type { AllergyIntolerance, Bundle, Condition, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withheldIssues } from '../../src/auth/access-rules.ts';
import { PERSONAS, type PersonaKey } from '../../src/demo/personas.ts';
import { summaryVocabulary } from '../../src/http/view/vocabulary.ts';
import { EPISODE_SUMMARY_EXT, KJ_TYPE_SYSTEM } from '../../src/sources/ips.ts';
import { SOURCE_TAG_SYSTEM } from '../../src/sources/source.ts';
import { ACCESS_RULE_SYSTEM } from '../../src/auth/access-rules.ts';
import { SUMMARY_ISSUE_SYSTEM } from '../../src/summary/assemble.ts';
import { html, renderHtml, type Interpolation } from '../../src/view/html.ts';
import { renderPatientPage, type PatientPageInput } from '../../src/view/patient-page.ts';
import * as doc from '../../src/view/summary-document.ts';
import { readSummary, sourcesLineOf, VIEW_SECTIONS } from '../../src/view/summary-document.ts';
import { sortByLastDate, type Row } from '../../src/view/summary-rows.ts';
import { ageOn, formatDate, formatInstant, formatPersonNumber } from '../../src/view/text.ts';
import { documentOnlyVocabulary } from '../../src/view/vocabulary.ts';
import { FIXED_NOW, kjernejournalDown, personaDocument, withManyProblems } from './support/documents.ts';
import { sectionHtml, tableRows, textOf } from './support/html.ts';

const render = (bundle: Bundle, over: Partial<PatientPageInput> = {}): string =>
  renderPatientPage({
    bundle,
    lang: 'nb',
    vocabulary: summaryVocabulary,
    now: FIXED_NOW,
    path: '/view/patient/x',
    shell: { demo: true, csrf: 'c'.repeat(43), user: { name: 'Magnar Koman', hpr: '9144889' } },
    ...over,
  });

const SECTION_IDS = VIEW_SECTIONS.map((s) => s.key);

describe('the view module', () => {
  it('imports only src/fhir/, the section modules (src/sections/) and types, as DESIGN.md lays out', () => {
    const dir = new URL('../../src/view/', import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      for (const m of source.matchAll(/^import\s+(type\s+)?[^'"]*from\s+'([^']+)'/gm)) {
        const [, typeOnly, from] = m;
        const allowed = from!.startsWith('./') || from!.startsWith('../fhir/') || from!.startsWith('../sections/') || (typeOnly !== undefined && from === '@medplum/fhirtypes');
        expect(allowed, `${file} imports ${from}`).toBe(true);
      }
    }
  });
});

describe('the html tag', () => {
  it('escapes every interpolated string, in text and in attributes', () => {
    const name = `<img src=x onerror="alert(1)"> & 'quoted'`;
    const out = renderHtml(html`<p title="${name}">${name}</p>`);
    expect(out).toBe('<p title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;quoted&#39;">&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;quoted&#39;</p>');
  });

  it('passes through only markup made by html itself, also inside arrays', () => {
    const items: Interpolation[] = ['<b>a</b>', html`<i>${'<b>'}</i>`, 3, undefined, null, false];
    expect(renderHtml(html`<div>${items}</div>`)).toBe('<div>&lt;b&gt;a&lt;/b&gt;<i>&lt;b&gt;</i>3</div>');
  });

  it('drops characters XML forbids instead of passing them into the page', () => {
    expect(renderHtml(html`${'a\u0000b\u001Bc'}`)).toBe('abc');
  });

  it('does not take a look-alike object from parsed data for markup', () => {
    const hostile = JSON.parse('{"__html":"<script>alert(1)</script>"}') as unknown as string;
    expect(renderHtml(html`${hostile}`)).not.toContain('<script>');
  });
});

describe('formatting', () => {
  it('writes dates as dd.mm.yyyy in Norwegian and yyyy-mm-dd in English, partial dates too', () => {
    expect(formatDate('1993-03-11', 'nb')).toBe('11.03.1993');
    expect(formatDate('1993-03-11T10:00:00+01:00', 'nb')).toBe('11.03.1993');
    expect(formatDate('2009-08', 'nb')).toBe('08.2009');
    expect(formatDate('1993-03-11', 'en')).toBe('1993-03-11');
    expect(formatDate('2009-08', 'en')).toBe('2009-08');
    expect(formatDate('1993', 'nb')).toBe('1993');
    expect(formatDate('1993', 'en')).toBe('1993');
    expect(formatDate('not a date', 'nb')).toBeUndefined();
    expect(formatDate(undefined, 'en')).toBeUndefined();
  });

  it('gives instants in Norwegian local time, across daylight saving', () => {
    expect(formatInstant('2026-11-23T12:00:00Z', 'nb')).toBe('23.11.2026 kl. 13:00');
    expect(formatInstant('2026-07-01T12:00:00Z', 'nb')).toBe('01.07.2026 kl. 14:00');
    expect(formatInstant('2026-07-01T12:00:00Z', 'en')).toBe('2026-07-01 14:00 (Oslo time)');
  });

  it('counts age in whole years, the day before a birthday included', () => {
    expect(ageOn('1966-08-05', new Date('2026-08-04T12:00:00Z'))).toBe(59);
    expect(ageOn('1966-08-05', new Date('2026-08-05T00:00:00Z'))).toBe(60);
    expect(ageOn('1966', FIXED_NOW)).toBeUndefined();
  });

  it('splits a fødselsnummer after the birth date', () => {
    expect(formatPersonNumber(PERSONAS.ms.fnr)).toBe('058866 10019');
    expect(formatPersonNumber('123')).toBe('123');
  });
});

describe('reading the document', () => {
  it('uses the canonical URLs the sources and the assembler write', () => {
    expect(doc.SOURCE_TAG_SYSTEM).toBe(SOURCE_TAG_SYSTEM);
    expect(doc.EPISODE_SUMMARY_EXT).toBe(EPISODE_SUMMARY_EXT);
    expect(doc.KJ_TYPE_SYSTEM).toBe(KJ_TYPE_SYSTEM);
    expect(doc.SUMMARY_ISSUE_SYSTEM).toBe(SUMMARY_ISSUE_SYSTEM);
    expect(doc.ACCESS_RULE_SYSTEM).toBe(ACCESS_RULE_SYSTEM);
  });

  it('finds every section by LOINC code and resolves its entries inside the Bundle', () => {
    const read = readSummary(personaDocument('ms'))!;
    expect(read.patient?.birthDate).toBe(PERSONAS.ms.birthDate);
    expect(read.sections.problems.entries.map((c) => (c as Condition).code?.coding?.[0]?.code)).toEqual(['G35', 'G43.0', 'R33']);
    expect(read.sections.devices.state).toBe('entries');
    expect(read.sections.allergies).toMatchObject({ present: true, state: 'empty' });
  });

  it('tells apart nothing recorded, a failed source and withheld content, though the document says unavailable for two of them', () => {
    expect(readSummary(personaDocument('nodata'))!.sections.allergies.state).toBe('empty');
    const down = readSummary(personaDocument('addison', { results: kjernejournalDown }))!;
    expect(down.sections.allergies.state).toBe('unavailable');
    expect(down.sections.allergies.notices).toEqual([expect.objectContaining({ kind: 'source', status: 'failed', source: 'kjernejournal' })]);
    // Registry diagnoses are still there; the section says what is missing.
    expect(down.sections.problems.state).toBe('entries');
    expect(down.sections.problems.notices).toHaveLength(1);
    expect(readSummary(personaDocument('reserved'))!.sections.allergies.state).toBe('withheld');
  });

  it('matches access-rule warnings to their section by the where() expression', () => {
    const issues = withheldIssues({
      effect: 'withhold',
      outcomes: [
        {
          rule: 'ACCESS-SCOPE',
          effect: 'withhold',
          reason: 'Withheld: the access token lacks the scope user/AllergyIntolerance.rs',
          target: { resourceType: 'AllergyIntolerance', interaction: 'r', level: 'content', section: '48765-2' },
        },
      ],
    });
    const read = readSummary(personaDocument('addison', { withheld: { sections: { '48765-2': 'ACCESS-SCOPE' } }, extraIssues: issues }))!;
    expect(read.sections.allergies.state).toBe('withheld');
    expect(read.sections.allergies.notices).toEqual([expect.objectContaining({ kind: 'rule', rule: 'ACCESS-SCOPE' })]);
    expect(read.otherNotices).toEqual([]);
  });

  it('keeps a warning that names no section for the top of the page', () => {
    const extra: OperationOutcomeIssue[] = [{ severity: 'warning', code: 'informational', diagnostics: 'Something general' }];
    const read = readSummary(personaDocument('ms', { extraIssues: extra }))!;
    expect(read.otherNotices).toEqual([{ kind: 'other', severity: 'warning', diagnostics: 'Something general' }]);
  });

  it('reads the sources line of a narrative as text, entities decoded', () => {
    const div = '<div xmlns="http://www.w3.org/1999/xhtml"><p>x</p><p><i>Kilder spurt: A &amp; B: svarte; &lt;script&gt;: &#229;.</i></p></div>';
    expect(sourcesLineOf(div)).toBe('Kilder spurt: A & B: svarte; <script>: å.');
    expect(sourcesLineOf('<div><p>no sources line</p></div>')).toBeUndefined();
  });

  it('refuses what is not a document', () => {
    expect(readSummary({ resourceType: 'Bundle', type: 'searchset', entry: [] })).toBeUndefined();
    const page = render({ resourceType: 'Bundle', type: 'searchset' });
    expect(textOf(page)).toContain('Sammendraget kunne ikke leses');
  });
});

describe('the patient page', () => {
  it.each(Object.keys(PERSONAS) as PersonaKey[])('renders every section for %s, each with rows or a statement, never blank', (key) => {
    const page = render(personaDocument(key));
    expect(page.startsWith('<!doctype html>\n<html lang="nb">')).toBe(true);
    const order = SECTION_IDS.map((id) => page.search(new RegExp(`<section[^>]*\\sid="${id}"`)));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    for (const id of SECTION_IDS) {
      const s = sectionHtml(page, id);
      expect(s).toMatch(/<h2 id="[a-z]+-heading">/);
      expect(/<table class="data"/.test(s) || /class="state-statement/.test(s), id).toBe(true);
    }
  });

  it("shows the MS persona's header and sections with the concept sketch's columns", () => {
    const page = render(personaDocument('ms'));
    const header = textOf(page.slice(page.indexOf('<section class="patient"'), page.indexOf('</section>')));
    expect(header).toContain('Bjørn Erik Haugland');
    expect(header).toContain('Fødselsnummer 058866 10019');
    expect(header).toContain('Alder 60 år (født 05.08.1966)');
    expect(header).toContain('Kjønn Mann');
    expect(header).toContain('23.11.2026 kl. 13:00');

    expect(tableRows(sectionHtml(page, 'problems'))).toEqual([
      ['ICD-10 G35', 'Multippel sklerose', '07.04.2008', '10.03.2025', '10', '– ikke oppgitt', 'NPR'],
      ['ICD-10 G43.0', 'Migrene uten aura', '11.03.1993', '31.10.2024', '21', '– ikke oppgitt', 'NPR'],
      ['ICD-10 R33', 'Urinretensjon', '20.11.2018', '26.08.2019', '5', '– ikke oppgitt', 'NPR'],
    ]);
    const meds = tableRows(sectionHtml(page, 'medications'));
    // ATC comes from the Medication the statement references inside the document.
    expect(meds[0]!.slice(0, 2)).toEqual(['L04AG03 (natalizumab)', 'Tysabri inf konsentrat 300 mg']);
    expect(meds[0]![5]).toBe('PLL');
    const devices = tableRows(sectionHtml(page, 'devices'));
    expect(devices[0]![0]).toBe('InterStim II sakral nevromodulator (Medtronic, modell 3058)');
    expect(devices[0]![1]).toBe('14.05.2019');
    const procedures = tableRows(sectionHtml(page, 'procedures')).map((r) => [r[0], r[1], r[4]]);
    expect(procedures).toContainEqual(['14.05.2019', 'NKPK KCX20', 'NPR']);
    expect(procedures).toContainEqual(['04.02.2019', 'NKPK JHGX00', 'NPR']);
    expect(procedures[0]).toEqual(['fra 15.02.2016, pågår', '– ikke oppgitt', 'Kjernejournal']);
    const alerts = tableRows(sectionHtml(page, 'alerts'));
    expect(alerts[0]![0]).toMatch(/^Kritisk Behandles med natalizumab/);
    expect(textOf(sectionHtml(page, 'allergies'))).toContain('Ingen registrert: Ingen opplysninger registrert i kildene som ble spurt.');
    expect(textOf(sectionHtml(page, 'problems'))).toContain('Kilder spurt: Kjernejournal (kritisk informasjon): svarte; Norsk pasientregister (NPR): svarte');
  });

  it("shows the allergy columns (type, what, reaction, severity, when) for the Addison persona's penicillin allergy", () => {
    const rows = tableRows(sectionHtml(render(personaDocument('addison')), 'allergies'));
    expect(rows[0]).toEqual([
      'Allergi – legemiddel, bekreftet',
      'Kritisk Penicillin V (fenoksymetylpenicillin) (ATC J01CE02)',
      'Anafylaktisk reaksjon: Anafylaksi etter første tablett, behandlet med adrenalin i legevakt.',
      'Høy kritikalitet, alvorlig reaksjon',
      '08.2009',
      'Kjernejournal',
    ]);
  });

  it('sorts diagnoses by last date with a link that works without script, and says how it is sorted', () => {
    const bundle = personaDocument('ms');
    const unsorted = sectionHtml(render(bundle), 'problems');
    expect(unsorted).toContain('aria-sort="none"');
    expect(unsorted).toContain('href="/view/patient/x?sort=last-desc#problems"');
    const asc = sectionHtml(render(bundle, { sort: 'last-asc' }), 'problems');
    expect(tableRows(asc).map((r) => r[3])).toEqual(['26.08.2019', '31.10.2024', '10.03.2025']);
    expect(asc).toContain('aria-sort="ascending"');
    expect(asc).toContain('href="/view/patient/x?sort=last-desc#problems"');
    expect(textOf(asc)).toContain('sortert etter sist registrert, eldste først');
    const desc = sectionHtml(render(bundle, { sort: 'last-desc', lang: 'en' }), 'problems');
    expect(tableRows(desc).map((r) => r[3])).toEqual(['2025-03-10', '2024-10-31', '2019-08-26']);
    expect(desc).toContain('href="/view/patient/x?sort=last-asc&amp;lang=en#problems"');
  });

  it('sorts rows without a date last in either direction, ties in document order', () => {
    const rows: Row[] = [{ cells: ['a'] }, { cells: ['b'], lastDate: '2020-01-01' }, { cells: ['c'], lastDate: '2021-01-01' }, { cells: ['d'], lastDate: '2020-01-01' }];
    expect(sortByLastDate(rows, 'last-desc').map((r) => r.cells[0])).toEqual(['c', 'b', 'd', 'a']);
    expect(sortByLastDate(rows, 'last-asc').map((r) => r.cells[0])).toEqual(['b', 'd', 'c', 'a']);
  });

  it('collapses a long list behind <details> with the count, keeping the first rows visible', () => {
    const s = sectionHtml(render(withManyProblems(personaDocument('ms'), 9)), 'problems');
    expect(tableRows(s)).toHaveLength(5);
    expect(s).toContain('<summary>Vis 7 til (12 i alt)</summary>');
    const rest = s.slice(s.indexOf('<details'));
    expect(tableRows(rest)).toHaveLength(7);
    expect(textOf(s)).toContain('Diagnoser og problemer (12)');
  });

  it('shows a list only one row too long whole: hiding a single row saves nothing', () => {
    const s = sectionHtml(render(withManyProblems(personaDocument('ms'), 3)), 'problems');
    expect(tableRows(s)).toHaveLength(6);
    expect(s).not.toContain('<details');
  });

  it('renders in English with English displays of Norwegian codes and ISO dates', () => {
    const page = render(personaDocument('ms', { lang: 'en' }), { lang: 'en' });
    expect(page).toContain('<html lang="en">');
    expect(textOf(page)).toContain('Medical alerts');
    expect(textOf(page)).toContain('Age 60 years (born 1966-08-05)');
    const rows = tableRows(sectionHtml(page, 'problems'));
    expect(rows.map((r) => r[1])).toEqual(['Multiple sclerosis', 'Migraine without aura', 'Retention of urine']);
    expect(rows[1]![2]).toBe('1993-03-11');
    expect(page).toContain('href="/view/patient/x?lang=nb" hreflang="nb"><span lang="nb">Norsk</span>');
    expect(textOf(sectionHtml(page, 'allergies'))).toContain('None recorded: Nothing recorded in the sources asked.');
  });

  it('without the vocabulary shows what the document itself says', () => {
    const rows = tableRows(sectionHtml(render(personaDocument('ms', { lang: 'en' }), { lang: 'en', vocabulary: documentOnlyVocabulary }), 'problems'));
    expect(rows[0]!.slice(0, 2)).toEqual(['– not stated', 'Multippel sklerose']);
    expect(rows[0]![6]).toBe('Norwegian Patient Registry (NPR)');
  });

  it('names the failed source in every section it feeds, and still shows what the other sources gave', () => {
    const page = render(personaDocument('addison', { results: kjernejournalDown }));
    for (const id of ['alerts', 'allergies', 'devices', 'procedures']) {
      const text = textOf(sectionHtml(page, id));
      expect(text, id).toContain('Kilde utilgjengelig: Kjernejournal (kritisk informasjon) var ikke tilgjengelig. Opplysninger derfra mangler.');
      expect(text, id).toContain('Ikke tilgjengelig: Opplysningene kunne ikke hentes.');
    }
    const problems = sectionHtml(page, 'problems');
    expect(textOf(problems)).toContain('Kilde utilgjengelig: Kjernejournal');
    expect(tableRows(problems)[0]![0]).toBe('ICD-10 E27.1');
    expect(sectionHtml(page, 'medications')).not.toContain('Kilde utilgjengelig');
    expect(page).toContain('<li class="nav-unavailable"><a href="#allergies">Allergier og intoleranser <span class="nav-count">(ikke tilgjengelig)</span></a></li>');
  });

  it('says withheld, with the reason, for the persona reserved against Kjernejournal', () => {
    const page = render(personaDocument('reserved'));
    const allergies = textOf(sectionHtml(page, 'allergies'));
    expect(allergies).toContain('Holdt tilbake: opplysninger fra Kjernejournal (kritisk informasjon).');
    expect(allergies).toContain('pasienten har reservert seg mot kjernejournal');
  });

  it('says which access rule withheld a section', () => {
    const issues = withheldIssues({
      effect: 'withhold',
      outcomes: [
        { rule: 'ACCESS-SCOPE', effect: 'withhold', reason: 'Withheld: scope', target: { resourceType: 'AllergyIntolerance', interaction: 'r', level: 'content', section: '48765-2' } },
      ],
    });
    const page = render(personaDocument('addison', { withheld: { sections: { '48765-2': 'ACCESS-SCOPE' } }, extraIssues: issues }));
    expect(textOf(sectionHtml(page, 'allergies'))).toContain('Holdt tilbake: Tilgangen din omfatter ikke disse opplysningene.');
  });

  it('renders the hostile persona as inert text: no markup from the document reaches the page', () => {
    const page = render(personaDocument('hostile'));
    const { given, family } = PERSONAS.hostile;
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img');
    expect(page).not.toMatch(/<[^>]*\sonerror=/);
    expect(page.match(/<script/g)).toHaveLength(1); // the view's own script, by src
    expect(page).toContain('<script src="/view/assets/view.js" defer></script>');
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    const h1 = /<h1 id="patient-name">([\s\S]*?)<\/h1>/.exec(page)![1]!;
    // Read as recorded: the explicit direction controls are dropped, and the name is isolated besides.
    expect(textOf(h1)).toBe(`Pasient: ${[...given, family].join(' ').replace(/[\u202A-\u202E\u2066-\u2069]/g, '')}`);
    expect(page).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
    expect(h1).toContain('<bdi>');
    const allergies = tableRows(sectionHtml(page, 'allergies'));
    expect(allergies[0]![2]).toContain('<script>alert("kj")</script>');
  });

  it('renders an allergy without any optional element as "not stated", not as a blank', () => {
    const bundle = personaDocument('addison');
    const allergy = bundle.entry!.find((e) => e.resource?.resourceType === 'AllergyIntolerance')!.resource as AllergyIntolerance;
    for (const k of ['type', 'category', 'criticality', 'reaction', 'onsetDateTime', 'recordedDate', 'verificationStatus'] as const) delete allergy[k];
    const row = tableRows(sectionHtml(render(bundle), 'allergies'))[0]!;
    expect(row[0]).toBe('– ikke oppgitt');
    expect(row[2]).toBe('– ikke oppgitt');
    expect(row[4]).toBe('– ikke oppgitt');
  });

  it('carries the CSRF token in the sign-out form and no inline style or script anywhere', () => {
    const page = render(personaDocument('knee'));
    expect(page).toContain(`<input type="hidden" name="csrf" value="${'c'.repeat(43)}">`);
    expect(page).not.toMatch(/\sstyle=/);
    expect(page).not.toMatch(/<style/);
    expect(page).not.toMatch(/\son[a-z]+=/);
    expect(page).not.toMatch(/<script(?![^>]*\ssrc=)/);
  });
});

describe('the patient page on paper', () => {
  it('heads every printed page with the patient, the number, and when and by whom it was printed', () => {
    const page = render(personaDocument('ms'));
    const running = /<div class="print-running print-only" aria-hidden="true">([\s\S]*?)<\/div>/.exec(page)?.[1];
    expect(running).toBeDefined();
    const text = textOf(running!);
    expect(text).toContain(`${PERSONAS.ms.given.join(' ')} ${PERSONAS.ms.family}`);
    expect(text).toContain(`${PERSONAS.ms.fnr.slice(0, 6)} ${PERSONAS.ms.fnr.slice(6)}`);
    expect(text).toContain('utskrevet');
    expect(text).toContain('av Magnar Koman (HPR 9144889)');
  });
});
