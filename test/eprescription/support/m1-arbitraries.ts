// Arbitraries for generated M1 messages, shared by the parser/rules properties and the conversion properties.
import fc from 'fast-check';
import { PERSONA_LIST } from '../../../src/demo/personas.ts';
import { checkDigits } from '../../../src/fhir/identifiers.ts';
import type { ExportContext } from '../../../src/eprescription/rules.ts';
import type { DrugSpec, HandelsvareItem, LegemiddelItem, M1Spec, MagistralSpec, NsKey, NsStyle, ReseptFlag } from './m1-builder.ts';

// --- arbitraries ---------------------------------------------------------------------------

/** Text a sender might put in a name or free-text field: any XML character, trimmed, no CR. */
const XML_TEXT = /^[\u0009\u000A\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
const freeText = fc
  .oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }),
    fc.constantFrom('<script>alert(1)</script>', 'Ø\u202Eير\u202C', `O'Brien "Q"`, ']]>', '&amp;', 'Åse-Marit Ødegård'),
  )
  .map((s) => s.trim())
  .filter((s) => s.length > 0 && XML_TEXT.test(s));

const fnr = fc
  .record({ day: fc.integer({ min: 1, max: 28 }), month: fc.integer({ min: 1, max: 12 }), yy: fc.integer({ min: 0, max: 99 }), ind: fc.integer({ min: 0, max: 999 }) })
  .map(({ day, month, yy, ind }) => {
    const stem = `${String(day).padStart(2, '0')}${String(month + 80).padStart(2, '0')}${String(yy).padStart(2, '0')}${String(ind).padStart(3, '0')}`;
    const k = checkDigits(stem);
    return k ? stem + k : undefined;
  })
  .filter((v): v is string => v !== undefined);
const patientNumber = fc.oneof(fc.constantFrom(...PERSONA_LIST.map((p) => p.fnr)), fnr);

const DAY = 86_400_000;
const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const tz = fc.constantFrom('', '+01:00', '+02:00', 'Z');
const code = (codes: readonly string[]) => fc.constantFrom(...codes).map((c) => ({ code: c }));

const simpleDrug: fc.Arbitrary<DrugSpec> = fc.record({
  kind: fc.constantFrom('Legemiddelpakning', 'LegemiddelMerkevare', 'LegemiddelVirkestoff', 'Legemiddeldose'),
  atc: fc.option(fc.stringMatching(/^[A-V]\d\d[A-Z]{2}\d\d$/).map((c) => ({ code: c })), { nil: undefined }),
  navnFormStyrke: freeText,
  reseptgruppe: fc.constantFrom('A', 'B', 'C', 'CF', 'F', 'K'),
  form: fc.option(code(['9', '32', '53', '74', '90', '101']), { nil: undefined }),
  varenr: fc.stringMatching(/^\d{6}$/),
  varenavn: freeText,
  id: fc.uuid().map((u) => `ID_${u.toUpperCase()}`),
});

const magistral: fc.Arbitrary<MagistralSpec> = fc.record({
  kind: fc.constant('Legemiddelblanding' as const),
  navn: freeText,
  tilbOppl: freeText,
  mengde: fc.integer({ min: 1, max: 500 }).map((v) => ({ v: String(v), u: 'g' })),
  form: code(['34', '46', '95']),
  components: fc.array(
    fc.oneof(
      simpleDrug.map((d) => ({ kind: 'legemiddel' as const, drug: { ...d, kind: 'Legemiddelpakning' as const }, mengde: { v: '10', u: 'g' } })),
      fc.record({ kind: fc.constant('annet' as const), navnFormStyrke: freeText, ad: fc.constant(true as const) }),
      fc.record({ kind: fc.constant('virkestoff' as const), id: fc.uuid().map((u) => `ID_${u}`), navn: freeText, teller: fc.constant({ v: '0.5', u: 'mg' }) }),
    ),
    { maxLength: 3 },
  ),
});

const legemiddelItem: fc.Arbitrary<LegemiddelItem> = fc.record(
  {
    kind: fc.constant('legemiddel' as const),
    antall: fc.constantFrom('1', '2', '0.5', '1.000', '14'),
    reiterasjon: fc.integer({ min: 0, max: 20 }),
    utenMt: fc.option(fc.record({ begrunnelse: freeText, produsent: freeText, direktesoknadSlv: fc.boolean() }), { nil: undefined }),
    bruksomrade: freeText,
    dosVeiledEnkel: freeText,
    drug: fc.oneof({ weight: 5, arbitrary: simpleDrug }, { weight: 1, arbitrary: magistral }),
  },
  { requiredKeys: ['kind', 'reiterasjon', 'drug'] },
);

const handelsvareItem: fc.Arbitrary<HandelsvareItem> = fc.record(
  {
    kind: fc.constant('handelsvare' as const),
    antall: fc.constantFrom('1', '3', '30'),
    vare: fc.record({ kind: fc.constantFrom('Naringsmiddel', 'MedForbMatr', 'Brystprotese'), nr: fc.stringMatching(/^\d{6}$/), navn: freeText }),
  },
  { requiredKeys: ['kind'] },
);

const FLAGS: ReseptFlag[] = ['Vernepliktig', 'SoktIndividRefusjon', 'Frikort', 'Vergeinnsynsreservasjon', 'TilEgenPraksis', 'RekvLegensNavn', 'UtskrevetSykehus', 'LastResept'];

export const m1Spec: fc.Arbitrary<M1Spec> = fc
  .record({
    msgId: fc.uuid(),
    issued: fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2027, 11, 31) }),
    validDays: fc.integer({ min: 0, max: 730 }),
    earliestAfter: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
    tzs: fc.tuple(tz, tz, tz),
    flags: fc.dictionary(fc.constantFrom(...FLAGS), fc.boolean(), { maxKeys: 4 }),
    patientFnr: patientNumber,
    names: fc.tuple(freeText, freeText, freeText, freeText),
    hpr: fc.stringMatching(/^[1-9]\d{6,8}$/),
    item: fc.oneof({ weight: 4, arbitrary: legemiddelItem }, { weight: 1, arbitrary: handelsvareItem }),
    withoutPatient: fc.boolean(),
  })
  .map((g): M1Spec => {
    const issuedDay = dayOf(g.issued);
    const flags = g.flags as Partial<Record<ReseptFlag, boolean>>;
    return {
      msgId: g.msgId,
      genDate: `${issuedDay}T08:30:00+01:00`,
      sender: { name: 'Nidelv legesenter', orgnr: '987654325', her: '8143512' },
      prescriber: { hpr: g.hpr, family: g.names[2], given: g.names[3] },
      // Only a prescription for the prescriber's own practice may come without a patient.
      patient: flags.TilEgenPraksis && g.withoutPatient ? null : { fnr: g.patientFnr, family: g.names[0], given: g.names[1], sex: '2' },
      resept: {
        forskrivningsdato: `${issuedDay}${g.tzs[0]}`,
        utloper: `${dayOf(g.issued + g.validDays * DAY)}${g.tzs[1]}`,
        oppdatertFest: `${issuedDay}T06:00:00`,
        tidligsteUtlevering: g.earliestAfter === undefined ? undefined : `${dayOf(g.issued + g.earliestAfter * DAY)}${g.tzs[2]}`,
        flags,
        refNr: flags.LastResept || flags.RekvLegensNavn ? 'K7Q2M9XW' : undefined,
        item: g.item,
      },
      signature: g.withoutPatient,
    };
  });

const prefix = fc.stringMatching(/^[a-z][a-z0-9]{0,4}$/).filter((p) => !p.startsWith('xml'));
export const nsStyle: fc.Arbitrary<NsStyle> = fc
  .record({
    declareAtRoot: fc.boolean(),
    picks: fc.array(fc.tuple(fc.constantFrom<NsKey>('mh', 'm1', 'fs', 'fk1', 'ds'), prefix), { maxLength: 5 }),
  })
  .map(({ declareAtRoot, picks }) => ({ declareAtRoot, prefixes: Object.fromEntries(picks) }));

/** What Reseptformidleren may say: nothing (not asked), that it does not know the prescription, or a 7408 status. */
export const chainStatus = fc.option(
  fc.oneof(
    fc.constant({ known: false as const }),
    fc.constantFrom('E', 'E', 'E', 'U', 'R', 'T', 'F', 'X', 'A', 'B', 'H').map((status) => ({ known: true as const, status })),
  ),
  { nil: undefined },
);

export const exportContext: fc.Arbitrary<ExportContext> = fc.record({
  now: fc.integer({ min: Date.UTC(2023, 11, 1), max: Date.UTC(2030, 0, 1) }).map((ms) => new Date(ms)),
  dispensingsSoFar: fc.integer({ min: 0, max: 25 }),
  recalled: fc.boolean(),
  patientRestricted: fc.boolean(),
  chain: chainStatus,
});

