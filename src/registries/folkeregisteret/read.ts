// A Folkeregisteret person document -> what Helsebro uses of it: the facts the access rules need
// (address protection, who may act for the person) and the home address as FHIR, only as far as the
// protection allows. Pure functions over the validated document.
import type { Address } from '@medplum/fhirtypes';
import { FolkeregisteretError } from './client.ts';
import { fregPerson, type FregPerson, type Gradering } from './types.ts';

export interface Representative {
  personNumber: string;
  /** Parental responsibility for a minor, or a guardianship / lasting power of attorney in force. */
  basis: 'foreldreansvar' | 'vergemaal';
}

export interface PopulationFacts {
  personNumber: string;
  /** The strictest address protection in force; `ugradert` when there is none. */
  addressProtection: Gradering;
  /** Who the register says may act for this person. */
  representatives: Representative[];
}

/** Validates a raw answer as the person asked for; anything else is a malformed answer, never a guess. */
export function readFregPerson(raw: unknown, personNumber: string): FregPerson {
  const parsed = fregPerson.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || '(document)';
    throw new FolkeregisteretError(`Folkeregisteret answer is malformed at ${where}`);
  }
  if (!parsed.data.identifikasjonsnummer.some((i) => i.foedselsEllerDNummer === personNumber)) {
    throw new FolkeregisteretError('Folkeregisteret answered for another person');
  }
  return parsed.data;
}

/** The entries in force: those marked erGjeldende, or, when none is marked, the last one. */
function current<T extends { erGjeldende?: boolean | undefined }>(entries: readonly T[] | undefined): T[] {
  if (!entries?.length) return [];
  const marked = entries.filter((e) => e.erGjeldende === true);
  if (marked.length) return marked;
  const unmarked = entries.filter((e) => e.erGjeldende !== false);
  return unmarked.length ? [unmarked.at(-1)!] : [];
}

const STRICTNESS: Record<Gradering, number> = { ugradert: 0, fortrolig: 1, strengtFortrolig: 2 };

export function addressProtection(p: FregPerson): Gradering {
  let strictest: Gradering = 'ugradert';
  for (const a of current(p.adressebeskyttelse)) if (STRICTNESS[a.graderingsnivaa] > STRICTNESS[strictest]) strictest = a.graderingsnivaa;
  return strictest;
}

export function populationFacts(p: FregPerson, personNumber: string): PopulationFacts {
  const parents = current(p.foreldreansvar)
    .filter((f) => f.ansvarlig && (f.ansvarssubjekt === undefined || f.ansvarssubjekt === personNumber))
    .map((f): Representative => ({ personNumber: f.ansvarlig!, basis: 'foreldreansvar' }));
  const guardians = current(p.vergemaalEllerFremtidsfullmakt)
    .filter((v) => v.verge?.foedselsEllerDNummer)
    .map((v): Representative => ({ personNumber: v.verge!.foedselsEllerDNummer!, basis: 'vergemaal' }));
  return { personNumber, addressProtection: addressProtection(p), representatives: [...parents, ...guardians] };
}

/**
 * The home address as FHIR, as far as the protection allows: none at all under strengt fortrolig (not even
 * the municipality), the municipality's post town only under fortrolig, the whole address otherwise.
 */
export function protectedAddress(p: FregPerson): Address[] {
  const protection = addressProtection(p);
  if (protection === 'strengtFortrolig') return [];
  const veg = current(p.bostedsadresse)[0]?.vegadresse;
  if (!veg) return [];
  const city = veg.poststed?.poststedsnavn;
  if (protection === 'fortrolig') return city ? [{ use: 'home', city, country: 'NO' }] : [];
  const street = [veg.adressenavn, [veg.adressenummer?.husnummer, veg.adressenummer?.husbokstav].filter(Boolean).join('')].filter(Boolean).join(' ');
  const address: Address = {
    use: 'home',
    ...(street ? { line: [street] } : {}),
    ...(city ? { city } : {}),
    ...(veg.poststed?.postnummer ? { postalCode: veg.poststed.postnummer } : {}),
    country: 'NO',
  };
  return [address];
}
