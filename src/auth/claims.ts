// Claim names Helsebro reads from access tokens. HelseID's names where HelseID defines one; Helsebro's own
// (under https://helsebro.no/claims/) only where it has none. src/auth/README.md documents each.

export const CLAIM = {
  /** OAuth client id of the calling application (RFC 9068; HelseID). */
  clientId: 'client_id',
  scope: 'scope',
  /** HelseID: the client's registered name. */
  clientName: 'helseid://claims/client/client_name',
  /** HelseID: the health professional's number in the Helsepersonellregisteret. */
  hprNumber: 'helseid://claims/hpr/hpr_number',
  /** HelseID: the person's national identity number (fødselsnummer or D-nummer). */
  pid: 'helseid://claims/identity/pid',
  /** ID-porten / Helsenorge: the same, for tokens issued to citizens. */
  pidPlain: 'pid',
  /** HelseID: the legal entity (juridisk enhet) the client acts for. */
  orgnrParent: 'helseid://claims/client/claims/orgnr_parent',
  /** HelseID: the sub-unit (virksomhet) under the legal entity, when the client names one. */
  orgnrChild: 'helseid://claims/client/claims/orgnr_child',
  /** Helsebro: the clinician's role as a code from Volven 9060 (Kategori helsepersonell), e.g. LE. */
  role: 'https://helsebro.no/claims/role',
  /** Helsebro: purpose of use as an HL7 v3 PurposeOfUse code, e.g. TREAT or ETREAT. */
  purposeOfUse: 'https://helsebro.no/claims/purpose_of_use',
  /** Helsebro: fødselsnummer of the person a citizen acts for (a child, or by power of attorney). */
  actingFor: 'https://helsebro.no/claims/acting_for',
  /** Helsebro: how the citizen represents that person: `guardian` or `proxy`. */
  representation: 'https://helsebro.no/claims/representation',
} as const;

/** Volven 9060 Kategori helsepersonell: the code system of the role claim. */
export const ROLE_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.1.9060';
/** HL7 v3 ActReason (which holds the PurposeOfUse codes): the code system of the purpose-of-use claim. */
export const PURPOSE_OF_USE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

/** Purposes of use that count as providing care; reading clinical data as a clinician needs one of them. */
export const CARE_PURPOSES: readonly string[] = ['TREAT', 'ETREAT', 'COC', 'CAREMGT'];
