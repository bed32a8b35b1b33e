// The synthetic demo population of DOMAIN.md. Every fødselsnummer here is synthetic (Skatteetaten
// Tenor range: month + 80) with valid check digits; no real person is described.
// Each persona's clinical records are seeded by the module that owns that source.

export interface Persona {
  /** FHIR Patient id in Helsebro. */
  id: string;
  fnr: string;
  given: string[];
  family: string;
  gender: 'male' | 'female';
  birthDate: string;
  /** Municipality of residence, as the population registry would give it. */
  city: string;
  postalCode: string;
  /** What the persona is for, one line. */
  story: string;
}

export const PERSONAS = {
  addison: {
    id: 'addison',
    fnr: '12839410075',
    given: ['Ingrid', 'Marie'],
    family: 'Solstad',
    gender: 'female',
    birthDate: '1994-03-12',
    city: 'Trondheim',
    postalCode: '7030',
    story: "32 years old with Addison's disease (E27.1) on hydrocortisone and fludrocortisone",
  },
  ms: {
    id: 'ms',
    fnr: '05886610019',
    given: ['Bjørn', 'Erik'],
    family: 'Haugland',
    gender: 'male',
    birthDate: '1966-08-05',
    city: 'Bergen',
    postalCode: '5003',
    story:
      '60 years old with multiple sclerosis (G35), migraine (G43.0), urinary retention (R33), natalizumab, sacral neuromodulation implant; sumatriptan dispensed 11 of 12 times in Norway (1 left abroad)',
  },
  knee: {
    id: 'knee',
    fnr: '23875110756',
    given: ['Astrid'],
    family: 'Lunde',
    gender: 'female',
    birthDate: '1951-07-23',
    city: 'Kristiansand',
    postalCode: '4610',
    story: 'Knee prosthesis (NGB40, M17.1), hypertension (K86) and high cholesterol (T93) from KPR, panic disorder (F41.0); amlodipine recalled in Norway',
  },
  reserved: {
    id: 'reserved',
    fnr: '17848010049',
    given: ['Per', 'Anders'],
    family: 'Nilsen',
    gender: 'male',
    birthDate: '1980-04-17',
    city: 'Tromsø',
    postalCode: '9008',
    story: 'Has reserved himself against Kjernejournal: its content is withheld',
  },
  child: {
    id: 'child',
    fnr: '09861250021',
    given: ['Sofie'],
    family: 'Berg',
    gender: 'female',
    birthDate: '2012-06-09',
    city: 'Drammen',
    postalCode: '3015',
    story: '14 years old; her contraceptive prescription carries a guardian-access reservation (vergeinnsynsreservasjon), so her parents do not see it',
  },
  nodata: {
    id: 'nodata',
    fnr: '28917510093',
    given: ['Ola'],
    family: 'Tomt',
    gender: 'male',
    birthDate: '1975-11-28',
    city: 'Hamar',
    postalCode: '2317',
    story: 'No data in any source',
  },
  confidential: {
    id: 'confidential',
    fnr: '21831151045',
    given: ['Tiril'],
    family: 'Vik',
    gender: 'female',
    birthDate: '2011-03-21',
    // Where the register has her living. Under strengt fortrolig adresse none of it may leave Helsebro.
    city: 'Narvik',
    postalCode: '8514',
    story: '15 years old with strengt fortrolig adresse (no address or municipality anywhere) and a reservation against guardian access',
  },
  hostile: {
    id: 'hostile',
    fnr: '01829010778',
    given: ['<script>alert("x")</script>', "O'Brien \"Quote\""],
    family: 'Ålesund-\u202Eنور\u202C <img src=x onerror=alert(1)>',
    gender: 'female',
    birthDate: '1990-02-01',
    city: 'Ålesund',
    postalCode: '6002',
    story: 'Name full of markup, quotes and right-to-left text: proves escaping everywhere',
  },
} as const satisfies Record<string, Persona>;

export type PersonaKey = keyof typeof PERSONAS;
export const PERSONA_LIST: readonly Persona[] = Object.values(PERSONAS);
