// M1 bytes -> EU ePrescription, top-down: parse -> decide -> enrich -> map -> emit -> validate.
// Everything is pure except the enrichment lookups the caller's registries make. The decision (with every
// reason) comes back whether or not the prescription may leave Norway; only an exportable one is enriched,
// mapped and emitted, and only after the group A/B guard has passed again.
import { createHash, randomUUID } from 'node:crypto';
import type { Bundle, OperationOutcomeIssue, Provenance } from '@medplum/fhirtypes';
import { fail, ok, problem, type Problem, type Result } from '../fhir/outcomes.ts';
import type { FestProduct } from '../registries/fest/types.ts';
import { checkEhdsiCdaElement } from './cda-check.ts';
import { ehdsiCdaTree, unstatedAmountIssue } from './emit-cda.ts';
import { emitEhdsiL1Cda } from './level1.ts';
import { toXmlElement, xmlDocument } from './xml-write.ts';
import { emitMpdBundle, type ResourceIds } from './emit-fhir.ts';
import { enrichM1, type Enrichment, type EnrichmentRegistries } from './enrich.ts';
import { ExportGuardError, assertExportableGroup, neverExportedGroup, prescriptionGroups } from './guard.ts';
import { patientIdentity, prescriberHprConflict } from './identity.ts';
import { applyTable } from './map/apply.ts';
import { loadMappingTable, type MappingTable } from '../mappings/table.ts';
import type { M1Message } from './m1/model.ts';
import { parseM1Document, type M1ParseOptions } from './m1/parse.ts';
import { buildProvenance } from './provenance.ts';
import { controlledDrugs, decideExport, productMismatch, EXPORT_RULE_CATALOGUE, type ChainStatus, type ExportDecision, type ExportReason, type ExportRuleCode } from './rules.ts';
import { validateMpdBundle } from './validate-fhir.ts';

export interface PipelineDeps {
  registries: EnrichmentRegistries;
  /** The operator's OID arc for identifiers in CDA (config HELSEBRO_OID). */
  helsebroOid: string;
  /** The organisation operating Helsebro: the CDA custodian. */
  operator: { name: string; orgnr?: string | undefined };
  tables?: { fhir: MappingTable; cda: MappingTable };
  newId?: () => string;
  version?: string;
}

/** What the prescription chain knows beyond the M1 (see ExportContext in rules.ts). */
export interface ChainFacts {
  dispensingsSoFar: number;
  recalled: boolean;
  patientRestricted: boolean;
  /** Reseptformidleren's word on the prescription, when it was asked. */
  chain?: ChainStatus | undefined;
}

export interface ConvertOptions {
  now?: Date;
  facts?: Partial<ChainFacts>;
  /** Ids to reuse (a re-conversion of a stored prescription keeps its ids). */
  ids?: Partial<ConversionIds>;
  parse?: M1ParseOptions;
  /** Also make the eHDSI Level 1 document (its PDF in English and bokmål). */
  level1?: boolean;
}

export interface ConversionIds extends ResourceIds {
  documentId: string;
  provenance: string;
}

interface ConversionBase {
  m1: M1Message;
  decision: ExportDecision;
  /** SHA-256 (hex) of the M1 bytes: re-importing the same message is recognised by it. */
  sourceHash: string;
  /** Reseptgruppe of the drug(s), as the M1 says. */
  groups: string[];
  warnings: OperationOutcomeIssue[];
}

export interface Refused extends ConversionBase {
  exportable: false;
}

export interface Converted extends ConversionBase {
  exportable: true;
  ids: ConversionIds;
  bundle: Bundle;
  cda: string;
  /** The eHDSI Level 1 document, when ConvertOptions.level1 asked for it. */
  cdaL1?: string;
  provenance: Provenance;
  enrichment: Enrichment;
  /** Mapping-table rows this conversion used (line numbers), and omitted rows whose source was present. */
  coverage: { fhir: ReadonlySet<number>; cda: ReadonlySet<number>; fhirOmitted: ReadonlySet<number>; cdaOmitted: ReadonlySet<number> };
}

export type Conversion = Refused | Converted;

export const sha256 = (input: Uint8Array | string): string => createHash('sha256').update(input).digest('hex');

let defaultTables: { fhir: MappingTable; cda: MappingTable } | undefined;
const tablesOf = (deps: PipelineDeps): { fhir: MappingTable; cda: MappingTable } =>
  deps.tables ?? (defaultTables ??= { fhir: loadMappingTable('m1-to-mpd-fhir'), cda: loadMappingTable('m1-to-ehdsi-cda') });

/**
 * What FEST adds to the decision. FEST knows the product's reseptgruppe too: a product FEST puts in a group
 * that may not leave is refused even when the M1 says otherwise, since a wrong group in a prescriber system
 * must not open the door. And a product FEST does not know has only the M1's word for its group: when its
 * ATC code lies in a class of narcotic or habit-forming medicines, that word is not enough. A product FEST
 * does know must be the one the prescription names (productMismatch).
 */
export function withFestFacts(decision: ExportDecision, m1: M1Message, product: FestProduct | undefined, drugPath: string): ExportDecision {
  const added: ExportReason[] = [];
  const group = product ? neverExportedGroup([product.prescriptionGroup]) : undefined;
  if (group) {
    const code: ExportRuleCode = group === 'A' ? 'NO-EXPORT-GROUP-A' : group === 'B' ? 'NO-EXPORT-GROUP-B' : group === 'K' ? 'NO-EXPORT-GROUP-K' : 'NO-EXPORT-GROUP-UNKNOWN';
    added.push(reasonFor(code, { nb: `FEST oppgir reseptgruppe ${group} for produktet.`, en: `FEST lists the product in prescription group ${group}.` }, [drugPath]));
  }
  const dok = m1.resept.reseptDok;
  const drug = dok.kind === 'ReseptDokLegemiddel' && dok.forskrivning.legemiddel.kind !== 'Legemiddelblanding' ? dok.forskrivning.legemiddel : undefined;
  const mismatch = product && drug ? productMismatch(drug, product) : undefined;
  if (mismatch && drug) added.push(reasonFor('NO-EXPORT-PRODUCT-MISMATCH', mismatch, [drug.path]));
  if (!product) {
    const controlled = controlledDrugs(m1);
    if (controlled.length) {
      const atc = controlled.map((d) => d.atc!.code.trim().toUpperCase()).join(', ');
      added.push(reasonFor('NO-EXPORT-CONTROLLED-UNVERIFIED', { nb: `ATC ${atc}.`, en: `ATC ${atc}.` }, controlled.map((d) => `${d.path}.Atc`)));
    }
  }
  const fresh = added.filter((a) => !decision.reasons.some((r) => r.code === a.code));
  if (!fresh.length) return decision;
  const order = EXPORT_RULE_CATALOGUE.map((r) => r.code as string);
  const reasons = [...decision.reasons, ...fresh].sort((a, b) => order.indexOf(a.code) - order.indexOf(b.code));
  return { ...decision, exportable: false, reasons };
}

function reasonFor(code: ExportRuleCode, detail: { nb: string; en: string }, expression: string[]): ExportReason {
  const rule = EXPORT_RULE_CATALOGUE.find((r) => r.code === code)!;
  return { code, nb: rule.nb, en: rule.en, detail, expression };
}

/** A guard that fires means a rule let through what must never leave: our fault, a 500. */
const guardFired = (diagnostics: string): Problem => problem(500, 'exception', diagnostics);

function dedupe(issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.severity}|${i.code}|${i.diagnostics}|${(i.expression ?? []).join(',')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export async function convertM1(input: Uint8Array | string, deps: PipelineDeps, opts: ConvertOptions = {}): Promise<Result<Conversion>> {
  const now = opts.now ?? new Date();
  const sourceHash = sha256(input);
  const parsed = parseM1Document(input, opts.parse);
  if (!parsed.ok) return parsed;
  const { message: m1, root, resept } = parsed.value;
  // A patient named ambiguously (two person numbers, a birth date the number contradicts) is no one in
  // particular: refused before any rule or register is asked about them.
  const identity = patientIdentity(m1.patient);
  if (!identity.ok) return fail(identity.problem);
  const facts: ChainFacts = { dispensingsSoFar: 0, recalled: false, patientRestricted: false, ...opts.facts };
  const groups = prescriptionGroups(m1);
  let decision = decideExport(m1, { now, ...facts });
  const base = { m1, sourceHash, groups, warnings: [...parsed.warnings] };
  if (!decision.exportable) return ok({ ...base, decision, exportable: false }, base.warnings);

  const enrichment = await enrichM1(m1, deps.registries);
  const dok = m1.resept.reseptDok;
  decision = withFestFacts(decision, m1, enrichment.product, dok.kind === 'ReseptDokLegemiddel' ? dok.forskrivning.legemiddel.path : dok.path);
  if (!decision.exportable) return ok({ ...base, decision, exportable: false, warnings: [...base.warnings, ...enrichment.warnings] });
  // HPR's record for the number names someone else: none of it may be attached, and the prescription does not go out.
  const prescriberConflict = prescriberHprConflict(m1.prescriber, enrichment.prescriber);
  if (prescriberConflict) return fail(prescriberConflict);

  try {
    assertExportableGroup([...groups, enrichment.product?.prescriptionGroup], 'the EU emitters');
  } catch (err) {
    if (err instanceof ExportGuardError) return fail(guardFired(err.message));
    throw err;
  }

  const newId = deps.newId ?? randomUUID;
  const ids: ConversionIds = {
    bundle: opts.ids?.bundle ?? newId(),
    medicationRequest: opts.ids?.medicationRequest ?? newId(),
    medication: opts.ids?.medication ?? newId(),
    patient: opts.ids?.patient ?? newId(),
    practitioner: opts.ids?.practitioner ?? newId(),
    practitionerRole: opts.ids?.practitionerRole ?? newId(),
    organization: opts.ids?.organization ?? newId(),
    documentId: opts.ids?.documentId ?? newId(),
    provenance: opts.ids?.provenance ?? newId(),
  };
  const tables = tablesOf(deps);
  const data = {
    root,
    payload: resept,
    fest: enrichment.product,
    hpr: enrichment.prescriber,
    registry: enrichment.patient,
    context: {
      now,
      documentId: ids.documentId,
      dispensingsSoFar: facts.dispensingsSoFar,
      patientIdentity: identity.value,
      operator: deps.operator,
      language: 'nb-NO',
    },
  };
  const fhirMapped = applyTable(tables.fhir, data);
  const cdaMapped = applyTable(tables.cda, data);
  const withholdPatientAddress = enrichment.withholdPatientAddress;
  const bundle = emitMpdBundle({ mapped: fhirMapped, ids, m1, product: enrichment.product, now, withholdPatientAddress });
  const cdaInput = { mapped: cdaMapped, m1, product: enrichment.product, helsebroOid: deps.helsebroOid, now, operator: deps.operator, withholdPatientAddress };
  const cdaTree = ehdsiCdaTree(cdaInput);
  const cda = xmlDocument(cdaTree);

  const fhirErrors = validateMpdBundle(bundle);
  // The document just written is checked as a tree; tests check the serialised text as a receiver would.
  const cdaCheck = checkEhdsiCdaElement(toXmlElement(cdaTree), 'ePrescription');
  // An amount abroad would read as packages: said first, as the reason the document checks also fail.
  const amount = unstatedAmountIssue(cdaInput);
  if (fhirErrors.length || !cdaCheck.ok || amount) {
    // What the M1 says cannot make a valid EU ePrescription (no birth date and no valid person number, say):
    // nothing is stored or sent, and the sender learns which elements were missing.
    return fail({
      status: 422,
      issues: [
        { severity: 'error', code: 'processing', diagnostics: 'This M1 cannot be made into a valid EU ePrescription; it was not stored or sent' },
        ...[...(amount ? [amount] : []), ...fhirErrors, ...cdaCheck.issues].map((i) => ({ ...i, severity: 'error' as const })),
      ],
    });
  }
  // Level 1 only after Level 3 passed: the PDF must never show a prescription the structured document could not carry.
  const cdaL1 = opts.level1 ? await emitEhdsiL1Cda(cdaInput) : undefined;
  const provenance = buildProvenance({
    id: ids.provenance,
    medicationRequestId: ids.medicationRequest,
    documentId: ids.documentId,
    helsebroOid: deps.helsebroOid,
    m1,
    sourceHash,
    decision,
    enrichment,
    tables: [tables.fhir.file, tables.cda.file],
    now,
    version: deps.version ?? 'dev',
  });
  const warnings = dedupe([...base.warnings, ...enrichment.warnings, ...fhirMapped.warnings, ...cdaMapped.warnings]);
  return ok(
    {
      ...base,
      warnings,
      decision,
      exportable: true,
      ids,
      bundle,
      cda,
      ...(cdaL1 ? { cdaL1 } : {}),
      provenance,
      enrichment,
      coverage: { fhir: fhirMapped.usedRows, cda: cdaMapped.usedRows, fhirOmitted: fhirMapped.omittedRows, cdaOmitted: cdaMapped.omittedRows },
    },
    warnings,
  );
}
