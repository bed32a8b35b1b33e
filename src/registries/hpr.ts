// The Health Personnel Register (HPR): the prescriber behind an M1 (and the pharmacist behind an M10),
// by HPR number. Demo mode answers from an embedded table; production plugs in a remote source (NHN's HPR
// service) behind the same interface, with the table as fallback only where configured.

/** Kodeverk 9060 (helsepersonellkategori) and 7426 (HPR specialities) codes, with their Norwegian names. */
export interface HprCode {
  code: string;
  display: string;
}

export interface HprAuthorization {
  /** Helsepersonellkategori (9060), e.g. LE Lege, TL Tannlege, FA1 Provisorfarmasøyt. */
  category: HprCode;
  validFrom?: string;
  /** Last day of validity (ISO date); absent for an authorisation without end. */
  validTo?: string;
  /** Rekvisisjonsrett: full, limited to some groups (e.g. nurses, midwives), or none. */
  prescribingRight: 'full' | 'limited' | 'none';
}

export interface HprWorkplace {
  name: string;
  orgnr?: string;
  herId?: string;
  city?: string;
}

export interface HprPerson {
  /** HPR number without leading zeros. */
  hpr: string;
  given: string[];
  family: string;
  authorizations: HprAuthorization[];
  specialities: HprCode[];
  workplaces: HprWorkplace[];
}

export interface PrescriberRegistry {
  /** The person with this HPR number, or undefined when the register does not know it. */
  byHpr(hpr: string, opts?: { signal?: AbortSignal }): Promise<HprPerson | undefined>;
}

/** HPR numbers are up to nine digits; messages sometimes pad them with zeros ("009144889"). */
export function normaliseHpr(raw: string): string | undefined {
  const digits = raw.trim();
  if (!/^\d{1,9}$/.test(digits)) return undefined;
  const stripped = digits.replace(/^0+/, '');
  return stripped === '' ? undefined : stripped;
}

/** The authorisation that entitles the person to prescribe on a date, if any. */
export function prescribingAuthorization(person: HprPerson, on: string): HprAuthorization | undefined {
  const day = on.slice(0, 10);
  return person.authorizations.find(
    (a) =>
      a.prescribingRight !== 'none' &&
      (a.validFrom === undefined || a.validFrom <= day) &&
      (a.validTo === undefined || day <= a.validTo),
  );
}

export function hprRegistryFromTable(people: readonly HprPerson[]): PrescriberRegistry {
  const byNumber = new Map(people.map((p) => [p.hpr, p]));
  return {
    byHpr: async (hpr) => {
      const key = normaliseHpr(hpr);
      return key === undefined ? undefined : byNumber.get(key);
    },
  };
}

/** Asks each registry in turn; the first that knows the person answers. A failing registry is not skipped. */
export function chainPrescriberRegistries(...registries: PrescriberRegistry[]): PrescriberRegistry {
  return {
    byHpr: async (hpr, opts) => {
      for (const r of registries) {
        const found = await r.byHpr(hpr, opts);
        if (found) return found;
      }
      return undefined;
    },
  };
}

const LE: HprCode = { code: 'LE', display: 'Lege' };
const FA1: HprCode = { code: 'FA1', display: 'Provisorfarmasøyt' };
const SP: HprCode = { code: 'SP', display: 'Sykepleier' };
const doctor = (validFrom: string): HprAuthorization => ({ category: LE, validFrom, prescribingRight: 'full' });

/**
 * Demo prescribers: the test-environment doctors of the official eResept samples (so the sample M1s enrich),
 * the doctors of the demo personas, and one name full of markup to prove escaping. All fictitious.
 */
export const DEMO_HPR: readonly HprPerson[] = [
  {
    hpr: '431002737',
    given: ['Anja', 'Fos'],
    family: 'Eidsvik',
    authorizations: [doctor('2005-06-01')],
    specialities: [{ code: '1', display: 'Allmennmedisin' }],
    workplaces: [{ name: 'Virginia Legekontor', orgnr: '100169444', herId: '8095068', city: 'Oslo' }],
  },
  {
    hpr: '431001905',
    given: ['Tommy', 'Fos'],
    family: 'Sjursen',
    authorizations: [doctor('2008-01-15')],
    specialities: [],
    workplaces: [{ name: 'Virginia Legekontor', orgnr: '100169444', herId: '8095068', city: 'Oslo' }],
  },
  {
    hpr: '9144889',
    given: ['Magnar'],
    family: 'Koman',
    authorizations: [doctor('1990-08-01')],
    specialities: [{ code: '1', display: 'Allmennmedisin' }],
    workplaces: [],
  },
  {
    hpr: '1010043',
    given: ['Emma'],
    family: 'Win',
    authorizations: [doctor('2012-03-01')],
    specialities: [{ code: '2', display: 'Anestesiologi' }],
    workplaces: [],
  },
  {
    hpr: '565501872',
    given: ['Lars', 'Petter'],
    family: 'Bakken',
    authorizations: [doctor('2009-09-01')],
    specialities: [{ code: '1', display: 'Allmennmedisin' }],
    workplaces: [{ name: 'Bakklandet legesenter', orgnr: '974795787', herId: '8143541', city: 'Trondheim' }],
  },
  {
    hpr: '565502011',
    given: ['Hilde'],
    family: 'Aasen',
    authorizations: [doctor('2001-02-01')],
    specialities: [{ code: '37', display: 'Nevrologi' }],
    workplaces: [{ name: 'Haukeland universitetssjukehus, Nevrologisk avdeling', orgnr: '974557746', herId: '8143890', city: 'Bergen' }],
  },
  {
    hpr: '565502135',
    given: ['Kristian'],
    family: 'Mo',
    authorizations: [doctor('2014-06-15')],
    specialities: [{ code: '1', display: 'Allmennmedisin' }],
    workplaces: [{ name: 'Lund legesenter', orgnr: '976722868', herId: '8143677', city: 'Kristiansand' }],
  },
  {
    hpr: '565502259',
    given: ['Ingeborg'],
    family: 'Strand',
    authorizations: [doctor('2011-01-01')],
    specialities: [{ code: '3', display: 'Barnesykdommer' }],
    workplaces: [{ name: 'Drammen legesenter', orgnr: '983974678', herId: '8143702', city: 'Drammen' }],
  },
  {
    hpr: '565502372',
    given: ['Siri'],
    family: 'Holm',
    authorizations: [{ category: FA1, validFrom: '2016-07-01', prescribingRight: 'none' }],
    specialities: [],
    workplaces: [{ name: 'Apotek 1 Gulskogen', orgnr: '987654321', herId: '8143811', city: 'Drammen' }],
  },
  {
    hpr: '565502496',
    given: ['Randi'],
    family: 'Nygård',
    authorizations: [{ category: SP, validFrom: '2010-01-01', prescribingRight: 'limited' }, { ...doctor('1995-01-01'), validTo: '2019-12-31' }],
    specialities: [],
    workplaces: [],
  },
  {
    hpr: '565502510',
    given: ['<b>Dr.</b> "Quote"', "O'Hara"],
    family: 'Lie-\u202Eنور\u202C <script>alert(1)</script>',
    authorizations: [doctor('2015-01-01')],
    specialities: [{ code: '1', display: 'Allmennmedisin' }],
    workplaces: [{ name: 'Ålesund <legesenter> & co', city: 'Ålesund' }],
  },
];

export function demoHprRegistry(): PrescriberRegistry {
  return hprRegistryFromTable(DEMO_HPR);
}
