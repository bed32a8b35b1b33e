// The national sources' answers checked against their zod shapes without being copied. zod's parse
// returns a copy of every object it passes, and these answers are the largest data a summary reads: the
// copies were a fifth of what a summary allocated. So each shape is written out once as JSON Schema
// (zod's own toJSONSchema) and compiled by ajv into a function that only reads; the shapes in
// fhir-shapes.ts and each source's types.ts stay the one definition, and the types still come from them.
// The one rule JSON Schema cannot take from zod, the refinement of a named concept, is written out here.
import { Ajv, type ErrorObject } from 'ajv';
import { z } from 'zod';
import { namedConcept } from './fhir-shapes.ts';

export type ShapeCheck<T> = { success: true; data: T } | { success: false; error: ShapeProblem };

/** Where the first problem is and what kind it is; never the value, which may be personal data. */
export interface ShapeProblem {
  path: string;
  code: string;
}

// Lengths count code points where zod's max() counts UTF-16 units: a size cap, either way.
const ajv = new Ajv({ allErrors: false, strict: true, code: { optimize: true } });

const nonBlank = { type: 'string', pattern: '\\S' };

/** namedConcept's refinement: a text with something in it, or a coding with a code or display that has. */
const NAMED = {
  anyOf: [
    { type: 'object', required: ['text'], properties: { text: nonBlank } },
    {
      type: 'object',
      required: ['coding'],
      properties: {
        coding: { type: 'array', contains: { type: 'object', anyOf: [
            { type: 'object', required: ['code'], properties: { code: nonBlank } },
            { type: 'object', required: ['display'], properties: { display: nonBlank } },
          ] } },
      },
    },
  ],
};

/** JSON Schema of a shape, the named-concept rule included wherever the shape uses it. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, {
    target: 'draft-7',
    io: 'input',
    reused: 'inline',
    unrepresentable: 'throw',
    override: (ctx) => {
      if (ctx.zodSchema === namedConcept) Object.assign(ctx.jsonSchema, NAMED);
    },
  }) as Record<string, unknown>;
}

/** A check of `schema`, compiled once: call it at module load, not per answer. */
export function compileShape<S extends z.ZodType>(schema: S): (value: unknown) => ShapeCheck<z.infer<S>> {
  const { $schema: _draft, ...jsonSchema } = jsonSchemaOf(schema);
  const validate = ajv.compile(jsonSchema);
  return (value) => (validate(value) ? { success: true, data: value as z.infer<S> } : { success: false, error: problemOf(validate.errors) });
}

/** The problem as a message names it: by path and kind only. */
export const describeProblem = (problem: ShapeProblem): string => `${problem.path}: ${problem.code}`;

function problemOf(errors: ErrorObject[] | null | undefined): ShapeProblem {
  const first = errors?.[0];
  if (!first) return { path: '(root)', code: 'invalid' };
  const path = first.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  // A missing member is named by its own path, as zod names it.
  if (first.keyword === 'required') path.push(String((first.params as { missingProperty?: unknown }).missingProperty));
  return { path: path.join('.') || '(root)', code: first.keyword };
}
