// Upstream CodeableConcepts as Helsebro writes them: code systems under their canonical names, the
// coding the clinician chose first, and always a text a reader can see.
import type { CodeableConcept } from '@medplum/fhirtypes';
import { canonicalSystem } from '../fhir/identifiers.ts';
import type { ShapeCodeableConcept } from './fhir-shapes.ts';

/** Keeps every usable coding (system names normalised, the clinician's chosen coding first) and a text. */
export function concept(cc: ShapeCodeableConcept): CodeableConcept {
  const codings = (cc.coding ?? [])
    .filter((c) => c.code || c.display)
    .sort((a, b) => Number(b.userSelected === true) - Number(a.userSelected === true))
    .map((c) => ({
      ...(c.system ? { system: canonicalSystem(c.system) } : {}),
      ...(c.code ? { code: c.code } : {}),
      ...(c.display ? { display: c.display } : {}),
      ...(c.userSelected !== undefined ? { userSelected: c.userSelected } : {}),
    }));
  const text = cc.text ?? codings.find((c) => c.display)?.display ?? codings[0]?.code;
  return { ...(codings.length ? { coding: codings } : {}), ...(text ? { text } : {}) };
}
