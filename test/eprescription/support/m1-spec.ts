// One plain, exportable M1 spec (group C package, the Addison persona, valid on 2026-03-02) with the item's
// fields and drug given by the test: for tests that vary one thing at a time.
import { PERSONAS } from '../../../src/demo/personas.ts';
import type { DrugSpec, LegemiddelItem, M1Spec } from './m1-builder.ts';

export const HYDROKORTISON: DrugSpec = {
  kind: 'Legemiddelpakning',
  atc: { code: 'H02AB09', display: 'Hydrokortison' },
  navnFormStyrke: 'Hydrokortison Orifarm Tab 10 mg',
  reseptgruppe: 'C',
  form: { code: '53', display: 'Tablett' },
  varenr: '138545',
  pakning: { varenavn: 'Hydrokortison Orifarm', str: '100', enhet: { code: 'stk', display: 'stykk' } },
};

export function specFor(item: Partial<Omit<LegemiddelItem, 'kind' | 'drug'>> = {}, drug: DrugSpec = HYDROKORTISON): M1Spec {
  const p = PERSONAS.addison;
  const { bytteresRekvirent, ...rest } = item;
  return {
    msgId: '6f1c2a40-1b7e-4c55-9d0e-2f4b8a1c9e01',
    genDate: '2026-03-01T08:30:00+01:00',
    sender: { name: 'Nidelv legesenter', orgnr: '987654325', her: '8143512', street: 'Kongens gate 1', postalCode: '7011', city: 'Trondheim' },
    prescriber: { hpr: '565501872', family: 'Bakken', given: 'Lars Petter' },
    patient: { fnr: p.fnr, family: p.family, given: p.given.join(' '), sex: '2' },
    resept: {
      forskrivningsdato: '2026-03-01',
      utloper: '2027-03-01',
      oppdatertFest: '2026-03-01T06:00:00',
      item: {
        kind: 'legemiddel',
        antall: '1',
        reiterasjon: 1,
        dosVeiledEnkel: '1 tablett morgen',
        ...(bytteresRekvirent === undefined ? {} : { bytteresRekvirent }),
        ...rest,
        drug,
      },
    },
  };
}
