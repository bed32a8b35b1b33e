// The compiled base validator against @medplum/core's validateResource, resource by resource: the
// conversion outputs of every M1 fixture, and generated mutations of them that each break one rule
// (unknown property, wrong JSON type, array where one value belongs and the reverse, a required element
// removed, bad primitive formats, empty and whitespace strings, null, two types of one choice, a broken
// invariant, a wrong contained resource, primitive extensions). Both must give the same verdict, and the
// same error expressions where medplum names them.
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { pipelineFor } from '../../src/eprescription/cli/convert-file.ts';
import { convertM1 } from '../../src/eprescription/pipeline.ts';
import { validateMpdBundle } from '../../src/eprescription/validate-fhir.ts';
import { loadBaseDefinitions, validateBaseResource } from '../../src/fhir/base-validation.ts';
import { DEMO_FEST_FILE } from '../../src/registries/fest/demo-file.ts';
import { fixture, fixtureNames, officialM1s } from '../eprescription/support/pipeline.ts';

type Json = Record<string, unknown>;

interface Verdict {
  error: boolean;
  expressions: string[];
}

/** medplum's verdict: an error when it throws (an OperationOutcome with errors, or any failure). */
function medplum(resource: Resource): Verdict {
  try {
    const issues = validateResource(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    return { error: issues.length > 0, expressions: expressionsOf(issues) };
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      const issues = (err.outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal');
      return { error: issues.length > 0, expressions: expressionsOf(issues) };
    }
    return { error: true, expressions: [] };
  }
}

function ours(resource: Resource): Verdict {
  const issues = validateBaseResource(resource);
  return { error: issues.length > 0, expressions: expressionsOf(issues) };
}

const expressionsOf = (issues: OperationOutcomeIssue[]): string[] => [...new Set(issues.flatMap((i) => i.expression ?? []))].sort();

const clone = <T>(v: T): T => structuredClone(v);

// --- the outputs of every M1 fixture ---------------------------------------------------------------------

const NOW = new Date('2026-03-02T10:00:00+01:00');
const bundles: { label: string; bundle: Bundle }[] = [];

beforeAll(async () => {
  loadBaseDefinitions();
  const config = loadConfig({ HELSEBRO_DATA_DIR: '/nonexistent-helsebro-test' });
  const deps = await pipelineFor({ mode: 'demo', helsebroOid: config.helsebroOid, operator: config.operator, festPath: DEMO_FEST_FILE, format: 'both', maxBytes: config.maxBodyBytes.xml, lang: 'en' });
  const inputs = [
    ...['valid', 'pipeline'].flatMap((folder) => fixtureNames(folder).map((f) => ({ label: `${folder}/${f}`, bytes: fixture(folder, f) }))),
    ...officialM1s(),
  ];
  for (const { label, bytes } of inputs) {
    const r = await convertM1(bytes, deps, { now: NOW });
    if (r.ok && r.value.exportable) bundles.push({ label, bundle: r.value.bundle });
  }
});

/** Every resource validateMpdBundle checks (the Bundle without its entries, then each entry), and the whole Bundle. */
function resourcesOf(bundle: Bundle): { label: string; resource: Resource }[] {
  const { entry, ...shell } = bundle;
  return [
    { label: 'Bundle shell', resource: shell as Bundle },
    { label: 'Bundle', resource: bundle },
    ...(entry ?? []).flatMap((e, i) => (e.resource ? [{ label: `entry[${i}] ${e.resource.resourceType}`, resource: e.resource }] : [])),
  ];
}

// --- mutations -------------------------------------------------------------------------------------------

interface Mutation {
  kind: string;
  /** Where, without array indexes: one mutation per kind and place over the whole corpus. */
  where: string;
  resource: Resource;
}

type Step = string | number;

function getAt(root: unknown, path: Step[]): unknown {
  let v = root;
  for (const s of path) v = (v as Record<string | number, unknown>)[s];
  return v;
}

function withAt(root: Resource, path: Step[], change: (parent: Record<string | number, unknown>, key: Step) => void): Resource {
  const copy = clone(root);
  const parent = getAt(copy, path.slice(0, -1)) as Record<string | number, unknown>;
  change(parent, path.at(-1)!);
  return copy;
}

/** Every node of a JSON tree with its path. */
function nodes(v: unknown, path: Step[] = [], out: { path: Step[]; value: unknown }[] = []): { path: Step[]; value: unknown }[] {
  out.push({ path, value: v });
  if (Array.isArray(v)) v.forEach((x, i) => nodes(x, [...path, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) nodes(x, [...path, k], out);
  return out;
}

const BAD_STRINGS = ['', ' ', ' padded', 'padded ', 'two  spaces', 'tab\there', 'ctl\u0001char', '2026-13-45', '2026-02-30', '2026-03-02T25:00:00Z', 'not a date', '-1', 'urn:oid:1.2.x', 'x'.repeat(65)];
const BAD_NUMBERS = [1.5, 0, -1, 3e9, -3e9];

function mutationsOf(resource: Resource, label: string): Mutation[] {
  const out: Mutation[] = [];
  const add = (kind: string, path: Step[], r: Resource): void => {
    out.push({ kind, where: `${label.replace(/\[\d+\]/g, '')} ${resource.resourceType}.${path.filter((s) => typeof s === 'string').join('.')}`, resource: r });
  };
  for (const { path, value } of nodes(resource)) {
    if (path.length === 0) continue;
    const key = path.at(-1)!;
    if (key === 'resourceType') continue;
    add('removed', path, withAt(resource, path, (p, k) => (Array.isArray(p) ? p.splice(Number(k), 1) : delete p[k])));
    add('null', path, withAt(resource, path, (p, k) => (p[k] = null)));
    if (Array.isArray(value)) {
      add('single where array', path, withAt(resource, path, (p, k) => (p[k] = value[0])));
      add('empty array', path, withAt(resource, path, (p, k) => (p[k] = [])));
    } else {
      if (typeof key === 'string') add('array where single', path, withAt(resource, path, (p, k) => (p[k] = [value])));
      if (value && typeof value === 'object') {
        add('unknown property', path, withAt(resource, path, (p, k) => ((p[k] as Json).helsebroExtra = 'x')));
        add('empty object', path, withAt(resource, path, (p, k) => (p[k] = {})));
        add('string for object', path, withAt(resource, path, (p, k) => (p[k] = 'text')));
        add('number for object', path, withAt(resource, path, (p, k) => (p[k] = 7)));
      } else if (typeof value === 'string') {
        add('number for string', path, withAt(resource, path, (p, k) => (p[k] = 42)));
        add('object for string', path, withAt(resource, path, (p, k) => (p[k] = { value })));
        for (const bad of BAD_STRINGS) add(`string ${JSON.stringify(bad)}`, path, withAt(resource, path, (p, k) => (p[k] = bad)));
        if (typeof key === 'string') {
          add('primitive extension', path, withAt(resource, path, (p) => (p[`_${key}`] = { extension: [{ url: 'http://example.org/x', valueString: 'y' }] })));
          add('primitive extension, bad', path, withAt(resource, path, (p) => (p[`_${key}`] = { helsebroExtra: 1 })));
          add('primitive extension only', path, withAt(resource, path, (p, k) => { delete p[k]; p[`_${key}`] = { id: 'e1' }; }));
        }
      } else if (typeof value === 'number') {
        add('string for number', path, withAt(resource, path, (p, k) => (p[k] = String(value))));
        for (const bad of BAD_NUMBERS) add(`number ${bad}`, path, withAt(resource, path, (p, k) => (p[k] = bad)));
      } else if (typeof value === 'boolean') {
        add('string for boolean', path, withAt(resource, path, (p, k) => (p[k] = String(value))));
      }
    }
    // Choice types: a second type beside the one there, and a type the choice does not have.
    const choice = typeof key === 'string' ? /^(value|medication|allowed|effective|onset|deceased|multipleBirth|asNeeded|dose|rate|item|timing)([A-Z]\w*)$/.exec(key) : null;
    if (choice) {
      add('choice with two types', path, withAt(resource, path, (p) => (p[`${choice[1]}String`] = 'second')));
      add('choice of unknown type', path, withAt(resource, path, (p, k) => { p[`${choice[1]}Helsebro`] = p[k]; delete p[k]; }));
    }
  }
  return out;
}

/** Mutations aimed at the invariants and at contained resources, on any resource. */
function invariantMutations(resource: Resource, label: string): Mutation[] {
  const r = resource as unknown as Json;
  const m = (kind: string, change: (x: Json) => void): Mutation => {
    const copy = clone(r);
    change(copy);
    return { kind, where: `${label} ${resource.resourceType}`, resource: copy as unknown as Resource };
  };
  const ext = { url: 'http://example.org/x', valueString: 'y' };
  const out = [
    m('ext-1: extension with value and extensions', (x) => (x.extension = [{ ...ext, extension: [ext] }])),
    m('ext-1: extension with neither', (x) => (x.extension = [{ url: 'http://example.org/x' }])),
    m('ext-1 holds: nested extension', (x) => (x.extension = [{ url: 'http://example.org/x', extension: [ext] }])),
    m('ext-1: modifierExtension with neither', (x) => (x.modifierExtension = [{ url: 'http://example.org/x' }])),
    m('contained of unknown type', (x) => (x.contained = [{ resourceType: 'Helsebro', id: 'c1' }])),
    m('contained without resourceType', (x) => (x.contained = [{ id: 'c1' }])),
    m('contained with unknown property', (x) => (x.contained = [{ resourceType: 'Organization', id: 'c1', name: 'A', helsebroExtra: 1 }])),
    m('contained, valid', (x) => (x.contained = [{ resourceType: 'Organization', id: 'c1', name: 'A' }])),
    m('dom-2: contained in contained', (x) => (x.contained = [{ resourceType: 'Organization', id: 'c1', name: 'A', contained: [{ resourceType: 'Organization', id: 'c2', name: 'B' }] }])),
    m('dom-4: contained with versionId', (x) => (x.contained = [{ resourceType: 'Organization', id: 'c1', name: 'A', meta: { versionId: '1' } }])),
    m('dom-5: contained with security label', (x) => (x.contained = [{ resourceType: 'Organization', id: 'c1', name: 'A', meta: { security: [{ code: 'R' }] } }])),
    m('bad id', (x) => (x.id = 'has space')),
    m('id too long', (x) => (x.id = 'a'.repeat(65))),
    m('resourceType unknown', (x) => (x.resourceType = 'Helsebro')),
    m('unknown property at root', (x) => (x.helsebroExtra = true)),
    m('meta.lastUpdated not an instant', (x) => (x.meta = { ...(x.meta as Json), lastUpdated: '2026-03-02' })),
    m('text with bad status', (x) => (x.text = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' })),
  ];
  if (resource.resourceType === 'Organization') {
    out.push(m('org-3: home telecom', (x) => (x.telecom = [{ system: 'phone', value: '1', use: 'home' }])));
    out.push(m('org-2: home address', (x) => (x.address = [{ use: 'home', city: 'Oslo' }])));
  }
  if (resource.resourceType === 'Patient') {
    out.push(m('pat-1: contact with nothing', (x) => (x.contact = [{ gender: 'male' }])));
    out.push(m('pat-1 holds', (x) => (x.contact = [{ name: { family: 'A' } }])));
    out.push(m('primitive array with null and extension', (x) => (x.name = [{ given: [null, 'B'], _given: [{ extension: [ext] }, null], family: 'A' }])));
    out.push(m('primitive array with null and no extension', (x) => (x.name = [{ given: [null, 'B'], family: 'A' }])));
    out.push(m('primitive extension not an object', (x) => (x._birthDate = 'x')));
    out.push(m('birthDate Feb 29 non-leap', (x) => (x.birthDate = '2023-02-29')));
  }
  if (resource.resourceType === 'MedicationRequest') {
    const timing = (repeat: Json) => (x: Json) => (x.dosageInstruction = [{ text: 't', timing: { repeat } }]);
    out.push(m('tim-1: duration without unit', timing({ duration: 2 })));
    out.push(m('tim-2: period without unit', timing({ period: 2 })));
    out.push(m('tim-4: negative duration', timing({ duration: -1, durationUnit: 'h' })));
    out.push(m('tim-6: periodMax without period', timing({ periodMax: 2, periodUnit: 'd' })));
    out.push(m('tim-8: countMax without count', timing({ countMax: 2 })));
    out.push(m('tim-9: offset without when', timing({ offset: 10 })));
    out.push(m('tim-10: timeOfDay and when', timing({ timeOfDay: ['08:00:00'], when: ['MORN'] })));
    out.push(m('tim holds', timing({ frequency: 2, period: 1, periodUnit: 'd' })));
    out.push(m('reference to contained that is missing', (x) => (x.subject = { reference: '#nothere' })));
    out.push(m('reference of the wrong type (warning only)', (x) => (x.subject = { reference: 'Medication/1' })));
  }
  if (resource.resourceType === 'Bundle') {
    out.push(m('bdl-1: total on a document', (x) => (x.total = 1)));
    // Helsebro's MPD Bundle is a collection; the document rules need a document.
    out.push(m('bdl-9: document without identifier', (x) => { x.type = 'document'; delete x.identifier; }));
    out.push(m('bdl-10: document without timestamp', (x) => { x.type = 'document'; delete x.timestamp; }));
    out.push(m('bdl-11: document not starting with a Composition', (x) => (x.type = 'document')));
    out.push(m('bdl-12: message without MessageHeader', (x) => (x.type = 'message')));
    out.push(m('bad bundle type', (x) => (x.type = 'not a code')));
    if (Array.isArray(r.entry)) {
      out.push(m('bdl-5: entry without resource', (x) => ((x.entry as Json[])[0] = { fullUrl: 'urn:uuid:0b6a4f7e-2f8e-4f55-9a36-2a3d1e6f7a10' })));
      out.push(m('bdl-8: fullUrl with _history', (x) => ((x.entry as Json[])[0]!.fullUrl = 'http://example.org/Patient/1/_history/1')));
      out.push(m('bdl-7: two entries with one fullUrl', (x) => ((x.entry as Json[])[1]!.fullUrl = (x.entry as Json[])[0]!.fullUrl)));
      out.push(m('bdl-2: entry.search in a document', (x) => ((x.entry as Json[])[0]!.search = { mode: 'match' })));
      out.push(m('bdl-3: entry.request in a document', (x) => ((x.entry as Json[])[0]!.request = { method: 'POST', url: 'Patient' })));
      out.push(m('entry resource with unknown property', (x) => (((x.entry as Json[])[0]!.resource as Json).helsebroExtra = 1)));
    }
  }
  return out;
}

describe('the compiled base validator gives @medplum/core validateResource verdicts', () => {
  it('converted every fixture it was given', () => {
    expect(bundles.length).toBeGreaterThanOrEqual(20);
  });

  it('agrees on every resource of every converted M1 fixture (no errors on either side)', () => {
    let checked = 0;
    for (const { label, bundle } of bundles) {
      for (const { label: part, resource } of resourcesOf(bundle)) {
        const theirs = medplum(resource);
        expect(ours(resource), `${label} ${part}`).toEqual(theirs);
        expect(theirs.error, `${label} ${part}`).toBe(false);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('agrees on every generated mutation, each breaking one rule (verdict and error expressions)', () => {
    const seen = new Set<string>();
    const kinds = new Map<string, { errors: number; clean: number }>();
    const disagreements: string[] = [];
    let checked = 0;
    for (const { bundle } of bundles) {
      for (const { label, resource } of resourcesOf(bundle)) {
        // The whole Bundle is mutated only at its shell and entry level (its resources are mutated one by one).
        const mutations = [...(label === 'Bundle' ? [] : mutationsOf(resource, label)), ...invariantMutations(resource, label)];
        for (const mutation of mutations) {
          const id = `${mutation.kind} @ ${mutation.where}`;
          if (seen.has(id)) continue;
          seen.add(id);
          const theirs = medplum(mutation.resource);
          const mine = ours(mutation.resource);
          checked++;
          const k = kinds.get(mutation.kind) ?? { errors: 0, clean: 0 };
          if (theirs.error) k.errors++;
          else k.clean++;
          kinds.set(mutation.kind, k);
          if (mine.error !== theirs.error) disagreements.push(`${id}: medplum ${theirs.error ? 'error' : 'ok'} ${theirs.expressions.join(',')}; ours ${mine.error ? 'error' : 'ok'} ${mine.expressions.join(',')}`);
          else if (theirs.expressions.length && JSON.stringify(theirs.expressions) !== JSON.stringify(mine.expressions)) {
            disagreements.push(`${id}: expressions medplum ${theirs.expressions.join(',')} ours ${mine.expressions.join(',')}`);
          }
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(checked).toBeGreaterThan(2000);
    // The generator does break rules: most kinds are errors for medplum somewhere.
    for (const kind of ['removed', 'null', 'array where single', 'single where array', 'unknown property', 'number for string', 'string ""', 'string " padded"', 'string "2026-13-45"', 'contained of unknown type', 'dom-2: contained in contained', 'ext-1: extension with neither', 'tim-1: duration without unit', 'pat-1: contact with nothing', 'org-3: home telecom', 'bdl-9: document without identifier']) {
      expect(kinds.get(kind)?.errors ?? 0, kind).toBeGreaterThan(0);
    }
  });

  it('is what validateMpdBundle applies to the Bundle and each entry, naming the entry', () => {
    const bundle = clone(bundles[0]!.bundle);
    expect(validateMpdBundle(bundle)).toEqual([]);
    const i = bundle.entry!.findIndex((e) => e.resource?.resourceType === 'Patient');
    (bundle.entry![i]!.resource as unknown as Json).birthDate = '1980-02-30';
    (bundle as unknown as Json).helsebroExtra = 1;
    const issues = validateMpdBundle(bundle);
    expect(issues.map((x) => x.expression?.[0])).toEqual(expect.arrayContaining([`Bundle.entry[${i}].resource: Patient.birthDate`, 'Bundle: Bundle.helsebroExtra']));
    expect(issues.find((x) => x.expression?.[0]?.endsWith('Patient.birthDate'))?.diagnostics).toBe('Invalid date value');
  });
});
