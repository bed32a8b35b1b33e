// Zod shapes for the pieces of FHIR JSON that upstream answers are made of. They check what the mappers
// rely on, cap sizes, and let unknown fields through untouched (looseObject).
import { z } from 'zod';

export const fhirDate = z
  .string()
  .regex(/^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/, 'not a FHIR date or dateTime');

export const text = z.string().max(10_000);

export const coding = z.looseObject({
  system: z.string().max(500).optional(),
  version: z.string().max(100).optional(),
  code: z.string().max(200).optional(),
  display: text.optional(),
  userSelected: z.boolean().optional(),
});

export const codeableConcept = z.looseObject({
  coding: z.array(coding).max(50).optional(),
  text: text.optional(),
});

/** A concept that names something: a text, or at least one coding with a code or display. */
export const namedConcept = codeableConcept.refine(
  (cc) => Boolean(cc.text?.trim()) || (cc.coding ?? []).some((c) => Boolean(c.code?.trim() || c.display?.trim())),
  'concept has neither text nor a usable coding',
);

export const extension = z.looseObject({ url: z.string().min(1).max(500) });
export const annotation = z.looseObject({ text });
export const identifier = z.looseObject({ system: z.string().max(500).optional(), value: z.string().max(200).optional() });
export const reference = z.looseObject({ reference: z.string().max(500).optional(), identifier: identifier.optional(), display: text.optional() });
export const period = z.looseObject({ start: fhirDate.optional(), end: fhirDate.optional() });

export type ShapeCoding = z.infer<typeof coding>;
export type ShapeCodeableConcept = z.infer<typeof codeableConcept>;
