// What Helsebro reads from Reseptformidleren (RF), the national prescription intermediary and the authority
// on a prescription's state: its count of dispensings (M9.8 answering an M9.7) and the prescription's
// status (a Reseptinfo of the M9.2 Reseptliste answering an M9.1). Only these facts are read; everything
// else in the answers is left alone.

export const NS = {
  m97: 'http://www.ehelse.no/xmlstds/eresept/m97/2018-07-01',
  m98: 'http://www.ehelse.no/xmlstds/eresept/m98/2018-07-01',
  m91: 'http://www.kith.no/xmlstds/eresept/m91/2023-03-20',
  m92: 'http://www.kith.no/xmlstds/eresept/m92/2023-03-20',
} as const;

/** MsgInfo/Type (kodeverk 8279) of each message. */
export const MSG_TYPE = {
  m97: { code: 'ERM97', name: 'Forespørsel om utleveringer på resept' },
  m98: { code: 'ERM98', name: 'Utleveringer på resept' },
  m91: { code: 'ERM91', name: 'Forespørsel om tilgjengelige resepter på pasient (utleverer)' },
  m92: { code: 'ERM92', name: 'Reseptliste (utleverer)' },
} as const;

/**
 * RF's answer to "how many dispensings has this prescription had" (M9.8, a choice of three):
 * a count, RF does not know the prescription (IngenResept), or the patient has reserved against the answer
 * (Pasientreservasjon), in which case RF gives no count.
 */
export type RfDispensings = { kind: 'count'; count: number } | { kind: 'no-prescription' } | { kind: 'patient-reservation' };

/** Kodeverk 7408 Status resept, as RF uses it in M9.2. */
export const RF_STATUS = {
  A: 'Avslått søknad fra SLV',
  B: 'Under behandling av SLV',
  E: 'Ekspederbar',
  F: 'Foreldet',
  H: 'HPR mangler fødselsnummer',
  R: 'Resept avsluttet',
  T: 'Tilbakekalt',
  U: 'Under ekspedering',
  X: 'Ugyldig',
} as const;

/** One prescription of an M9.2 Reseptliste, as far as Helsebro reads it. */
export interface RfListedPrescription {
  reseptId: string;
  /** Kodeverk 7408 code (E, U, R, T, F, X, ...), upper case as sent. */
  status: string;
}

/** What RF says of one prescription: its count, and its entry in the patient's list (undefined: not listed). */
export interface RfState {
  dispensings: RfDispensings;
  listed: RfListedPrescription | undefined;
}

/** A call to RF that did not give an answer Helsebro can vouch for. */
export type RfFailure = 'failed' | 'timeout' | 'malformed';

export type RfResult<T> = { status: 'ok'; value: T } | { status: RfFailure; message: string };

/**
 * The largest count of dispensings Helsebro believes. Reiterasjon is a plain int in M1, but no prescription
 * is dispensed a thousand times; a larger count is a broken answer, not a fact.
 */
export const MAX_DISPENSINGS = 1000;

/** The organisation that asks RF: the Norwegian NCP, the party that also sends RF the M10s of dispensings abroad. */
export interface RfSender {
  herId: string;
  orgnr: string;
  name: string;
}

/**
 * Reseptformidleren as addressed in the official eResept 2.5 sample messages M9.7 and M9.8 (org.nr and
 * HER-id). The production values come from the Adresseregister.
 */
export const RESEPTFORMIDLEREN_PARTY: RfSender = { name: 'Reseptformidleren', orgnr: '915933149', herId: '80624' };
