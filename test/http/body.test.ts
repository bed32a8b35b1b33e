// The JSON body boundary: what it refuses, and that every refusal names the element, so a sender can find
// it without guessing.
import { describe, expect, it } from 'vitest';
import { parseJsonSafely } from '../../src/http/body.ts';

const refusal = (text: string) => {
  const r = parseJsonSafely(text);
  if (r.ok) throw new Error(`accepted: ${text}`);
  expect(r.problem.status).toBe(400);
  return r.problem.issues[0]!;
};

describe('parseJsonSafely', () => {
  it('refuses a lone surrogate, high or low, wherever it is, naming the element', () => {
    expect(refusal('{"resourceType":"Patient","name":[{"family":"Sol\\ud800stad"}]}')).toMatchObject({
      expression: ['Patient.name[0].family'],
      diagnostics: expect.stringContaining('lone UTF-16 surrogate (U+D800)'),
    });
    expect(refusal('{"resourceType":"Bundle","entry":[{},{"resource":{"text":"x\\udfff"}}]}').expression).toEqual(['Bundle.entry[1].resource.text']);
    // Reversed pair: both halves are alone.
    expect(refusal('{"a":"\\udc00\\ud800"}').diagnostics).toContain('U+DC00');
    // In a key: the expression escapes it rather than carrying it.
    expect(refusal('{"resourceType":"Patient","ke\\ud800y":1}').expression).toEqual(['Patient.`ke\\ud800y`']);
  });

  it('accepts a proper surrogate pair and astral characters', () => {
    const r = parseJsonSafely('{"resourceType":"Patient","name":[{"family":"\\ud83d\\ude00 😀 Ærlig"}]}');
    expect(r.ok && (r.value as { name: { family: string }[] }).name[0]!.family).toBe('😀 😀 Ærlig');
  });

  it('names where a control character or a prototype key is', () => {
    expect(refusal('{"resourceType":"MedicationDispense","note":[{"text":"bell\\u0007"}]}')).toMatchObject({
      expression: ['MedicationDispense.note[0].text'],
      diagnostics: expect.stringContaining('U+0007'),
    });
    expect(refusal('{"resourceType":"Parameters","parameter":[{"name":"x","__proto__":{"isAdmin":true}}]}')).toMatchObject({
      expression: ['Parameters.parameter[0].__proto__'],
      diagnostics: "JSON key '__proto__' is not allowed",
    });
    // Without a usable resourceType the path starts at the document itself.
    expect(refusal('[{"constructor":{}}]').expression).toEqual(['$this[0].constructor']);
  });

  it('leaves no polluted prototype behind', () => {
    parseJsonSafely('{"__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
