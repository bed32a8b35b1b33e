// Loads the FHIR terminology resources of the top-level terminology/ folder once, indexes them by
// canonical url and id, and resolves the several spellings a code system arrives in (FHIR url,
// urn:oid, bare OID as CDA writes it). Everything else in this module is pure over this index.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeSystem, CodeSystemConcept, ConceptMap, ValueSet } from '@medplum/fhirtypes';

export const TERMINOLOGY_DIR = fileURLToPath(new URL('../../terminology/', import.meta.url));

export interface IndexedConcept {
  concept: CodeSystemConcept;
  parent?: string;
}

export interface IndexedCodeSystem {
  resource: CodeSystem;
  concepts: Map<string, IndexedConcept>;
  /** Lower-cased codes, for code systems that say they are case-insensitive. */
  caseInsensitive?: Map<string, string>;
}

export interface Terminology {
  readonly dir: string;
  readonly codeSystems: ReadonlyMap<string, IndexedCodeSystem>;
  readonly valueSets: ReadonlyMap<string, ValueSet>;
  readonly conceptMaps: ReadonlyMap<string, ConceptMap>;
  readonly byId: {
    readonly CodeSystem: ReadonlyMap<string, CodeSystem>;
    readonly ValueSet: ReadonlyMap<string, ValueSet>;
    readonly ConceptMap: ReadonlyMap<string, ConceptMap>;
  };
  /** urn:oid:… and other aliases -> canonical system url. */
  readonly systemAliases: ReadonlyMap<string, string>;
  /** "all codes" value sets named by CodeSystem.valueSet -> the code system url. */
  readonly implicitValueSets: ReadonlyMap<string, string>;
}

export type TerminologyResource = CodeSystem | ValueSet | ConceptMap;

export class TerminologyLoadError extends Error {
  override name = 'TerminologyLoadError';
}

// Norway writes ATC with its Volven OID; FHIR and the EU use the WHO url (DOMAIN.md "Code systems").
const FIXED_ALIASES: Record<string, string> = {
  'urn:oid:2.16.578.1.12.4.1.1.7180': 'http://www.whocc.no/atc',
  'urn:oid:2.16.840.1.113883.6.73': 'http://www.whocc.no/atc',
  'urn:oid:2.16.840.1.113883.6.8': 'http://unitsofmeasure.org',
  'urn:oid:0.4.0.127.0.16.1.1.2.1': 'http://standardterms.edqm.eu',
};

/** Reads and indexes every *.json resource in dir. Throws TerminologyLoadError naming the bad file. */
export function loadTerminology(dir: string = TERMINOLOGY_DIR): Terminology {
  const codeSystems = new Map<string, IndexedCodeSystem>();
  const valueSets = new Map<string, ValueSet>();
  const conceptMaps = new Map<string, ConceptMap>();
  const byId = {
    CodeSystem: new Map<string, CodeSystem>(),
    ValueSet: new Map<string, ValueSet>(),
    ConceptMap: new Map<string, ConceptMap>(),
  };
  const systemAliases = new Map<string, string>(Object.entries(FIXED_ALIASES));
  const implicitValueSets = new Map<string, string>();

  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const resource = parseResource(join(dir, file), file);
    const { resourceType, id, url } = resource;
    if (!id || !url) throw new TerminologyLoadError(`${file}: a ${resourceType} needs both id and url`);
    if (byId[resourceType].has(id)) throw new TerminologyLoadError(`${file}: duplicate ${resourceType} id '${id}'`);
    const seen = resourceType === 'CodeSystem' ? codeSystems : resourceType === 'ValueSet' ? valueSets : conceptMaps;
    if (seen.has(url)) throw new TerminologyLoadError(`${file}: duplicate ${resourceType} url '${url}'`);
    if (resourceType === 'CodeSystem') {
      byId.CodeSystem.set(id, resource);
      codeSystems.set(url, indexCodeSystem(resource, file));
      for (const ident of resource.identifier ?? []) {
        if (ident.value?.startsWith('urn:oid:') && ident.value !== url) systemAliases.set(ident.value, url);
      }
      if (resource.valueSet) implicitValueSets.set(resource.valueSet, url);
    } else if (resourceType === 'ValueSet') {
      byId.ValueSet.set(id, resource);
      valueSets.set(url, resource);
    } else {
      byId.ConceptMap.set(id, resource);
      conceptMaps.set(url, resource);
    }
  }
  return { dir, codeSystems, valueSets, conceptMaps, byId, systemAliases, implicitValueSets };
}

function parseResource(path: string, file: string): TerminologyResource {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TerminologyLoadError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const type = (json as { resourceType?: unknown } | null)?.resourceType;
  if (type !== 'CodeSystem' && type !== 'ValueSet' && type !== 'ConceptMap') {
    throw new TerminologyLoadError(`${file}: expected a CodeSystem, ValueSet or ConceptMap, found ${String(type)}`);
  }
  return json as TerminologyResource;
}

function indexCodeSystem(cs: CodeSystem, file: string): IndexedCodeSystem {
  const concepts = new Map<string, IndexedConcept>();
  const walk = (list: CodeSystemConcept[] | undefined, parent?: string): void => {
    for (const concept of list ?? []) {
      if (!concept.code) throw new TerminologyLoadError(`${file}: a concept without code`);
      if (concepts.has(concept.code)) throw new TerminologyLoadError(`${file}: duplicate code '${concept.code}'`);
      concepts.set(concept.code, parent === undefined ? { concept } : { concept, parent });
      walk(concept.concept, concept.code);
    }
  };
  walk(cs.concept);
  if (cs.caseSensitive === false) {
    const caseInsensitive = new Map<string, string>();
    for (const code of concepts.keys()) caseInsensitive.set(code.toLowerCase(), code);
    return { resource: cs, concepts, caseInsensitive };
  }
  return { resource: cs, concepts };
}

let cached: Terminology | undefined;

/** The terminology of the project folder, loaded on first use and kept for the life of the process. */
export function getTerminology(): Terminology {
  cached ??= loadTerminology();
  return cached;
}

/** Replaces the cached terminology (tests, or a reload after the folder changed). */
export function setTerminology(t: Terminology | undefined): void {
  cached = t;
}

/**
 * The canonical system url for any accepted spelling: the url itself, `urn:oid:…`, or a bare OID as CDA
 * writes it in @codeSystem. Unknown systems come back unchanged (with `urn:oid:` added to a bare OID).
 */
export function canonicalSystem(system: string, t: Terminology = getTerminology()): string {
  const trimmed = system.trim();
  const withScheme = /^\d+(\.\d+)+$/.test(trimmed) ? `urn:oid:${trimmed}` : trimmed;
  return t.systemAliases.get(withScheme) ?? withScheme;
}

/** The OID of a code system (for CDA @codeSystem), from its url or its identifiers; undefined if none is known. */
export function systemOid(system: string, t: Terminology = getTerminology()): string | undefined {
  const url = canonicalSystem(system, t);
  if (url.startsWith('urn:oid:')) return url.slice('urn:oid:'.length);
  for (const [alias, target] of t.systemAliases) {
    if (target === url && alias.startsWith('urn:oid:')) {
      // ATC has two OIDs; CDA (eHDSIActiveIngredient) uses the HL7 one, not the Norwegian Volven alias.
      if (alias === 'urn:oid:2.16.578.1.12.4.1.1.7180') continue;
      return alias.slice('urn:oid:'.length);
    }
  }
  return undefined;
}

export function findCodeSystem(system: string, t: Terminology = getTerminology()): IndexedCodeSystem | undefined {
  return t.codeSystems.get(canonicalSystem(system, t));
}

/** The concept for a code, honouring the code system's case sensitivity. */
export function findConcept(cs: IndexedCodeSystem, code: string): IndexedConcept | undefined {
  const exact = cs.concepts.get(code);
  if (exact || !cs.caseInsensitive) return exact;
  const actual = cs.caseInsensitive.get(code.toLowerCase());
  return actual === undefined ? undefined : cs.concepts.get(actual);
}

/** A terminology resource by type and id, for the REST read interaction. */
export function terminologyResource(
  type: 'CodeSystem' | 'ValueSet' | 'ConceptMap',
  id: string,
  t: Terminology = getTerminology(),
): TerminologyResource | undefined {
  return t.byId[type].get(id);
}

/** Every resource of a type, sorted by id, for the REST search interaction. */
export function listTerminologyResources(
  type: 'CodeSystem' | 'ValueSet' | 'ConceptMap',
  t: Terminology = getTerminology(),
): TerminologyResource[] {
  return [...t.byId[type].values()].sort((a, b) => (a.id ?? '').localeCompare(b.id ?? ''));
}
