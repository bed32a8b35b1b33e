// The demo FEST extract covers every product the demo population and the official samples use, and every
// code it carries has an EU mapping (so a demo conversion never falls back to Norwegian-only codes).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFest } from '../../src/registries/fest/m30-parser.ts';
import { DEMO_FEST_FILE } from '../../src/registries/fest/demo-file.ts';
import type { CodedValue, FestRecord } from '../../src/registries/fest/types.ts';
import { CONCEPT_MAP, display, lookup, translate } from '../../src/terminology/index.ts';

const records: FestRecord[] = [];
for await (const e of parseFest(readFileSync(DEMO_FEST_FILE))) if (e.type === 'record') records.push(e.record);

const V = (nr: number): string => `urn:oid:2.16.578.1.12.4.1.1.${nr}`;
const pakninger = records.flatMap((r) => (r.kind === 'pakning' ? [r] : []));
const byVarenr = new Map(pakninger.map((p) => [p.data.varenr, p]));
const ids = new Set(records.map((r) => r.id));

describe('products', () => {
  it('has every package of the official eResept samples (M1, M10, M94, M96, M9NA)', () => {
    const samples: Record<string, string> = {
      '154021': 'Ibux Tab 400 mg', // Lege endrer.../M1 Resept.xml
      '429076': 'Cosylan Mikst 1,7 mg/ml', // Rekvirent rekvirerer.../M1 Resept.xml, M94
      '541409': 'Cosylan Mikst 1,7 mg/ml', // M10 Utleveringsrapport.xml (dispensed package)
      '343544': 'Iscador P Serie II Inj væske 1 mg/ml/10 mg/ml/20 mg/ml', // Søknad.../M10, M14, M94
      '017426': 'Paracet Tab 500 mg', // M96 Reseptliste rekvirent.xml
      '011818': 'Apocillin Tab 660 mg',
      '454165': 'Zocor Tab 10 mg',
      '057932': 'Cetimax Tab 10 mg',
      '317612': 'Metadon NYP Tab 20 mg', // Diverse eksempler/M96-b64.xml
      '424036': 'Dolcontin Depottab 10 mg', // Nettapotek/M9NA2
      '487256': 'Pinex Forte Stikkpille 500 mg/30 mg', // Nettapotek/M9NA2, M9NA4
    };
    for (const [varenr, name] of Object.entries(samples)) expect(byVarenr.get(varenr)?.data.name, varenr).toBe(name);
  });

  it('has the brands of the demo medication list under the FEST ids it uses', () => {
    // src/sources/medication-list/demo-data.ts: Addison, MS, knee, reserved and child personas.
    const medicationList = [
      'ID_8F2A7C1E-0B3D-4E55-9A61-1C2B3D4E5F60', // Hydrokortison Orifarm
      'ID_5D1E9B77-2C4A-4F83-8E10-6A7B8C9D0E1F', // Florinef
      'ID_A3C9E1F2-7B6D-4D0A-8C5E-2F1A0B9C8D7E', // Tysabri
      'ID_0E4D7A22-9F1B-4C63-B8A5-3D2C1B0A9F8E', // Sumatriptan Teva
      'ID_6B8D0F12-3A5C-4E7B-9D1F-4B6C8E0A2C4D', // Amlodipin Sandoz
      'ID_9C1E3A57-5B7D-4F91-A3C5-7E9A1C3E5A7B', // Atorvastatin Krka
      'ID_2A4C6E80-1D3F-4A5C-8E0A-2C4E6A8C0E2A', // Paracet
      'ID_4E6A8C02-7F9B-4D1F-A5C7-9E1B3D5F7A9C', // Ibux
      'ID_7D9F1B35-0C2E-4A4C-B6D8-0F2B4D6F8B0D', // Ventoline
      'ID_1F3B5D79-8A0C-4E2A-9C4E-6A8C0E2A4C6E', // Microgynon
    ];
    for (const id of medicationList) expect(ids.has(id), id).toBe(true);
  });

  it('has the persona drugs, a group A and a group B product and the common ones', () => {
    const atcs = new Set(pakninger.map((p) => p.data.atc?.code));
    for (const atc of ['H02AB09', 'H02AA02', 'L04AG03', 'N02AA05', 'N05BA01', 'N02BE01', 'A10BA02', 'C10AA05', 'C08CA01', 'R03AC02']) {
      expect(atcs.has(atc), atc).toBe(true);
    }
    expect(pakninger.filter((p) => p.data.prescriptionGroup === 'A').map((p) => p.data.name)).toContain('OxyContin Depottab 10 mg');
    expect(pakninger.filter((p) => p.data.prescriptionGroup === 'B').map((p) => p.data.name)).toContain('Stesolid Tab 5 mg');
    // Hydrocortisone both as emergency injection and as tablets for the Addison persona.
    expect(pakninger.filter((p) => p.data.atc?.code === 'H02AB09').map((p) => p.data.doseForm?.code).sort()).toEqual(['25', '435', '53']);
  });

  it('links every reference to an entry of the same file', () => {
    for (const r of records) {
      const refs =
        r.kind === 'pakning'
          ? r.data.packages.map((p) => p.merkevareRef)
          : r.kind === 'merkevare'
            ? r.data.ingredients.map((i) => i.ref)
            : r.kind === 'virkestoff-med-styrke'
              ? [r.data.substanceRef]
              : r.kind === 'legemiddel-virkestoff'
                ? [...r.data.ingredients.map((i) => i.ref), ...r.data.merkevareRefs, ...r.data.pakningRefs]
                : [];
      for (const ref of refs) expect(ids.has(ref), `${r.id} -> ${ref}`).toBe(true);
    }
  });
});

describe('every code of the demo extract maps to the EU', () => {
  const codes = (pick: (r: FestRecord) => (CodedValue | undefined)[]): string[] => [
    ...new Set(records.flatMap(pick).flatMap((c) => (c ? [c.code] : []))),
  ];
  const common = (r: FestRecord) => ('prescriptionGroup' in r.data ? r.data : undefined);

  it.each([
    ['dose forms (7448)', CONCEPT_MAP.doseForm, 7448, (r: FestRecord) => [common(r)?.doseForm]],
    ['routes (7477)', CONCEPT_MAP.route, 7477, (r: FestRecord) => common(r)?.administration?.routes ?? []],
    ['dose units (7480)', CONCEPT_MAP.doseUnit, 7480, (r: FestRecord) => common(r)?.administration?.doseUnits ?? []],
    ['package units (7452)', CONCEPT_MAP.packageUnit, 7452, (r: FestRecord) => (r.kind === 'pakning' ? r.data.packages.map((p) => p.unit) : [])],
    ['package types (7449)', CONCEPT_MAP.packageType, 7449, (r: FestRecord) => (r.kind === 'pakning' ? r.data.packages.map((p) => p.packageType) : [])],
  ] as const)('%s', (_label, map, nr, pick) => {
    const found = codes(pick);
    expect(found.length).toBeGreaterThan(0);
    for (const code of found) {
      expect(lookup(V(nr), code), `${nr}|${code} is a Volven code`).toBeDefined();
      expect(translate(map, V(nr), code).result, `${nr}|${code} maps`).toBe(true);
    }
  });

  it('strength units (9090) and strength denominators (7452)', () => {
    const vms = records.flatMap((r) => (r.kind === 'virkestoff-med-styrke' ? [r.data] : []));
    for (const unit of new Set(vms.map((v) => v.strength.unit ?? ''))) {
      expect(translate(CONCEPT_MAP.strengthUnit, V(9090), unit).result, unit).toBe(true);
    }
    for (const unit of new Set(vms.flatMap((v) => (v.denominator?.unit ? [v.denominator.unit] : [])))) {
      expect(translate(CONCEPT_MAP.packageUnit, V(7452), unit).result, unit).toBe(true);
    }
  });

  it('every ATC code has an English display', () => {
    for (const atc of codes((r) => [common(r)?.atc])) {
      const en = display('http://www.whocc.no/atc', atc, 'en');
      expect(en, atc).toBeDefined();
      expect(en).toMatch(/^[a-z]/);
    }
  });

  it('every package counted in pieces has a unit of presentation, from its dose form or its container', () => {
    const counted = pakninger.filter((p) => p.data.packages.some((pi) => pi.unit.code === 'stk'));
    expect(counted.length).toBeGreaterThan(10);
    for (const p of counted) {
      const form = p.data.doseForm?.code ?? '';
      const container = p.data.packages[0]?.packageType.code ?? '';
      const byForm = translate(CONCEPT_MAP.unitOfPresentation, V(7448), form).result;
      const byContainer = translate(CONCEPT_MAP.containerUnitOfPresentation, V(7449), container).result;
      expect(byForm || byContainer, `${p.data.name} (form ${form}, container ${container})`).toBe(true);
    }
  });
});
