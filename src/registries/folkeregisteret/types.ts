// The part of a Folkeregisteret person document Helsebro reads, in the register's own shape and naming
// (Skatteetaten's "Folkeregisteret offentlig med hjemmel" Person: every element a list of historical
// entries, the current one marked erGjeldende). Unknown fields are kept out of the typed value but do
// not fail the parse: the register adds elements over time.
import { z } from 'zod';

const personNumber = z.string().regex(/^\d{11}$/);
const entry = <T extends z.ZodRawShape>(shape: T) => z.looseObject({ erGjeldende: z.boolean().optional(), ...shape });
const list = <T extends z.ZodTypeAny>(item: T) => z.array(item).max(200).optional();

/** Adressebeskyttelse: graderingsnivaa strengtFortrolig (kode 6), fortrolig (kode 7) or ugradert. */
export const GRADERING = ['strengtFortrolig', 'fortrolig', 'ugradert'] as const;
export type Gradering = (typeof GRADERING)[number];

const poststed = z.looseObject({ poststedsnavn: z.string().max(100).optional(), postnummer: z.string().regex(/^\d{4}$/).optional() });

const vegadresse = z.looseObject({
  kommunenummer: z.string().regex(/^\d{4}$/).optional(),
  adressenavn: z.string().max(200).optional(),
  adressenummer: z.looseObject({ husnummer: z.string().max(10).optional(), husbokstav: z.string().max(5).optional() }).optional(),
  poststed: poststed.optional(),
});

export const fregPerson = z.looseObject({
  identifikasjonsnummer: z
    .array(entry({ foedselsEllerDNummer: personNumber, identifikatortype: z.enum(['foedselsnummer', 'dNummer']).optional(), status: z.string().max(40).optional() }))
    .min(1)
    .max(20),
  navn: list(entry({ fornavn: z.string().max(200).optional(), mellomnavn: z.string().max(200).optional(), etternavn: z.string().max(200).optional() })),
  kjoenn: list(entry({ kjoenn: z.enum(['kvinne', 'mann']).optional() })),
  foedsel: list(entry({ foedselsdato: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional() })),
  bostedsadresse: list(entry({ vegadresse: vegadresse.optional() })),
  adressebeskyttelse: list(entry({ graderingsnivaa: z.enum(GRADERING) })),
  /** Parental responsibility for a minor: who (ansvarlig) holds it for whom (ansvarssubjekt). */
  foreldreansvar: list(
    entry({
      ansvar: z.enum(['felles', 'mor', 'far', 'medmor', 'andre', 'ukjent']).optional(),
      ansvarlig: personNumber.optional(),
      ansvarssubjekt: personNumber.optional(),
    }),
  ),
  /** Guardianship (vergemål) or a lasting power of attorney (fremtidsfullmakt) in force. */
  vergemaalEllerFremtidsfullmakt: list(
    entry({
      type: z.string().max(80).optional(),
      embete: z.string().max(120).optional(),
      verge: z
        .looseObject({
          foedselsEllerDNummer: personNumber.optional(),
          omfang: z.string().max(120).optional(),
          omfangetErInnenPersonligOmraade: z.boolean().optional(),
        })
        .optional(),
    }),
  ),
});

export type FregPerson = z.infer<typeof fregPerson>;
