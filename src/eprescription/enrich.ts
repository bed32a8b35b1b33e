// Enrichment: what the EU documents need that an M1 does not carry. The drug from FEST (strength, active
// substance, route, package, dose form), the prescriber from HPR, the patient from the population registry.
// Lookups run in parallel; none of them can fail a conversion: an unknown or unreachable entry becomes a
// warning, and the emitters fall back to what the M1 itself says. (What the pipeline does with an HPR record
// that names someone else, and with a register person who differs from the M1's, is identity.ts's.)
import type { OperationOutcomeIssue, Patient } from '@medplum/fhirtypes';
import { findProduct, REGISTRY_ISSUE_SYSTEM, type DrugRegistry, type ProductLookup, type ProductReference } from '../registries/drugs.ts';
import type { FestProduct } from '../registries/fest/types.ts';
import { prescribingAuthorization, type HprPerson, type PrescriberRegistry } from '../registries/hpr.ts';
import type { PopulationRegistry } from '../registries/population.ts';
import { registerIdentityWarnings } from './identity.ts';
import type { Legemiddel, M1Message } from './m1/model.ts';

export interface EnrichmentRegistries {
  drugs: DrugRegistry;
  prescribers: PrescriberRegistry;
  population: PopulationRegistry;
}

export interface Enrichment {
  product?: FestProduct;
  matchedBy?: ProductLookup['matchedBy'];
  /** The FEST record the M1 names, when FEST does not have it (the Provenance names it). */
  missingProduct?: ProductReference;
  /** The HPR entry, its authorisations ordered with the one valid on the prescription date first. */
  prescriber?: HprPerson;
  /** The population registry's Patient. */
  patient?: Patient;
  /**
   * The patient's address and contact details stay out of every output: the register grades the address
   * strengt fortrolig or fortrolig, or could not be asked (fail closed).
   */
  withholdPatientAddress?: boolean;
  warnings: OperationOutcomeIssue[];
}

const registryWarning = (code: string, diagnostics: string, expression?: string): OperationOutcomeIssue => ({
  severity: 'warning',
  code: code.endsWith('UNAVAILABLE') ? 'transient' : 'not-found',
  diagnostics,
  details: { coding: [{ system: REGISTRY_ISSUE_SYSTEM, code }], text: diagnostics },
  ...(expression ? { expression: [expression] } : {}),
});

/** How a prescription names its drug, for the FEST lookup (varenummer or FEST id; ATC and name for warnings). */
export function productReference(drug: Legemiddel): ProductReference | undefined {
  switch (drug.kind) {
    case 'Legemiddelblanding':
      return undefined;
    case 'Legemiddelpakning':
      return { kind: drug.kind, varenr: drug.varenr, festId: drug.id, atc: drug.atc?.code, name: drug.navnFormStyrke };
    case 'Legemiddeldose':
      // A Legemiddeldose id is not a product entry; its brand is.
      return { kind: 'LegemiddelMerkevare', festId: drug.refLegemiddelMerkevare, atc: drug.atc?.code, name: drug.navnFormStyrke };
    default:
      return { kind: drug.kind, festId: drug.id, atc: drug.atc?.code, name: drug.navnFormStyrke };
  }
}

async function lookupProduct(m1: M1Message, drugs: DrugRegistry): Promise<Pick<Enrichment, 'product' | 'matchedBy' | 'missingProduct' | 'warnings'>> {
  const dok = m1.resept.reseptDok;
  if (dok.kind !== 'ReseptDokLegemiddel') return { warnings: [] };
  const drug = dok.forskrivning.legemiddel;
  const ref = productReference(drug);
  if (!ref) return { warnings: [] };
  try {
    const found = await findProduct(drugs, ref, { expression: drug.path });
    if (!found.product) return { missingProduct: ref, warnings: found.warnings };
    return { product: found.product, ...(found.matchedBy ? { matchedBy: found.matchedBy } : {}), warnings: found.warnings };
  } catch {
    return { missingProduct: ref, warnings: [registryWarning('FEST-UNAVAILABLE', 'FEST could not be read; converted from the prescription\'s own data', drug.path)] };
  }
}

async function lookupPrescriber(m1: M1Message, registry: PrescriberRegistry): Promise<Pick<Enrichment, 'prescriber' | 'warnings'>> {
  const where = `${m1.prescriber.path}.Ident`;
  try {
    const person = await registry.byHpr(m1.prescriber.hpr);
    if (!person) {
      return { warnings: [registryWarning('HPR-UNKNOWN-PRESCRIBER', `HPR number ${m1.prescriber.hpr} is not in the Health Personnel Register; the prescriber is described from the message`, where)] };
    }
    const day = m1.resept.forskrivningsdato;
    const valid = prescribingAuthorization(person, day);
    const warnings = valid
      ? []
      : [registryWarning('HPR-NO-PRESCRIBING-RIGHT', `HPR lists no prescribing authorisation for ${m1.prescriber.hpr} valid on ${day}`, where)];
    const authorizations = valid ? [valid, ...person.authorizations.filter((a) => a !== valid)] : person.authorizations;
    return { prescriber: { ...person, authorizations }, warnings };
  } catch {
    return { warnings: [registryWarning('HPR-UNAVAILABLE', 'HPR could not be reached; the prescriber is described from the message', where)] };
  }
}

async function lookupPatient(m1: M1Message, registry: PopulationRegistry): Promise<Pick<Enrichment, 'patient' | 'withholdPatientAddress' | 'warnings'>> {
  const patient = m1.patient;
  if (!patient) return { warnings: [] };
  const number = patient.fnr ?? patient.dnr;
  const where = `${patient.path}.Ident`;
  // Without a person number the register cannot be asked whether the address is protected: fail closed.
  if (!number) return notAsked(patient.address !== undefined, where, 'the patient has no fødselsnummer or D-nummer to ask by');
  const [found, protection] = await Promise.all([lookupPatientRecord(registry, number, where), lookupProtection(registry, number, where, patient.address !== undefined)]);
  // The register's person beside the M1's: differences are named (identity.ts decides what is sent).
  const differs = found.patient ? registerIdentityWarnings(patient, found.patient) : [];
  return { ...found, ...protection, warnings: [...found.warnings, ...differs, ...protection.warnings] };
}

/**
 * Address protection that could not be asked: the address is withheld, as when the register says strengt
 * fortrolig. The warning is given only when the M1 carries an address, the only case where something is withheld.
 */
function notAsked(hasAddress: boolean, where: string, why: string): Pick<Enrichment, 'withholdPatientAddress' | 'warnings'> {
  return {
    withholdPatientAddress: true,
    warnings: hasAddress
      ? [registryWarning('REG-PROTECTION-UNAVAILABLE', `No population register could say whether the address is protected (${why}); the address is withheld`, where)]
      : [],
  };
}

async function lookupProtection(registry: PopulationRegistry, number: string, where: string, hasAddress: boolean): Promise<Pick<Enrichment, 'withholdPatientAddress' | 'warnings'>> {
  // A registry with no register behind it (convert-m1 without one) cannot tell a strengt fortrolig
  // address from any other, so it is treated as one: fail closed, never open.
  if (!registry.addressProtection) return notAsked(hasAddress, where, 'no register is configured');
  try {
    const grade = await registry.addressProtection(number);
    return { withholdPatientAddress: grade !== 'ugradert', warnings: [] };
  } catch {
    return {
      withholdPatientAddress: true,
      warnings: [registryWarning('REG-PROTECTION-UNAVAILABLE', 'The population register could not say whether the address is protected; the address is withheld', where)],
    };
  }
}

async function lookupPatientRecord(registry: PopulationRegistry, number: string, where: string): Promise<Pick<Enrichment, 'patient' | 'warnings'>> {
  try {
    const found = await registry.byPersonNumber(number);
    if (found) return { patient: found, warnings: [] };
    return { warnings: [{ ...registryWarning('REG-UNKNOWN-PATIENT', 'The patient is not in the population registry; the patient is described from the message', where), severity: 'information' }] };
  } catch {
    return { warnings: [registryWarning('REG-UNAVAILABLE', 'The population registry could not be reached; the patient is described from the message', where)] };
  }
}

export async function enrichM1(m1: M1Message, registries: EnrichmentRegistries): Promise<Enrichment> {
  const [product, prescriber, patient] = await Promise.all([
    lookupProduct(m1, registries.drugs),
    lookupPrescriber(m1, registries.prescribers),
    lookupPatient(m1, registries.population),
  ]);
  const out: Enrichment = { warnings: [...product.warnings, ...prescriber.warnings, ...patient.warnings] };
  if (product.product) out.product = product.product;
  if (product.matchedBy) out.matchedBy = product.matchedBy;
  if (product.missingProduct) out.missingProduct = product.missingProduct;
  if (prescriber.prescriber) out.prescriber = prescriber.prescriber;
  if (patient.patient) out.patient = patient.patient;
  if (patient.withholdPatientAddress) out.withholdPatientAddress = true;
  return out;
}
