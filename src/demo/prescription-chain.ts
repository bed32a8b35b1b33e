// What the prescription chain (Reseptformidleren) knows of the demo prescriptions beyond their M1s, so the
// demo shows what a pharmacist abroad must see: a prescription mostly dispensed in Norway, and one recalled
// there after Helsebro imported it. The ids are the demo M1s' MsgIds (src/eprescription/demo.ts); the demo
// stand-in for RF (src/sources/reseptformidleren/demo-store.ts) is seeded from this list. Every other
// prescription Helsebro holds is, to the stand-in, dispensable with no dispensings in Norway.

export const DEMO_RESEPT_IDS = {
  /** The MS persona's sumatriptan: 12 dispensings in all (Reiterasjon 11). */
  msSumatriptan: '6f1d2a80-3c4b-4e5f-9a01-ms000000su06',
  /** The knee persona's amlodipine. */
  kneeAmlodipin: '6f1d2a80-3c4b-4e5f-9a01-knee0000am07',
} as const;

export interface DemoChainState {
  reseptId: string;
  /** Kodeverk 7408; null: RF does not know the prescription. */
  status: string | null;
  /** Dispensings RF has registered (made in Norway). */
  dispensings: number;
  patientReservation: boolean;
  story: string;
}

export const DEMO_CHAIN_STATES: readonly DemoChainState[] = [
  {
    reseptId: DEMO_RESEPT_IDS.msSumatriptan,
    status: 'E',
    dispensings: 11,
    patientReservation: false,
    story: 'sumatriptan dispensed 11 of 12 times in Norway: abroad it shows 1 of 12 dispensings remaining',
  },
  {
    reseptId: DEMO_RESEPT_IDS.kneeAmlodipin,
    status: 'T',
    dispensings: 2,
    patientReservation: false,
    story: 'amlodipine recalled in Norway (status T) after two dispensings: not available abroad (NO-EXPORT-RECALLED)',
  },
];
