// The JSON body boundary: what it refuses, and that every refusal says where (an expression, or a byte
// offset for bytes that are not UTF-8), so a sender can find the element without guessing.
import { describe, expect, it } from 'vitest';
import { invalidUtf8At, malformedEscape, parseJsonSafely, readBody } from '../../src/http/body.ts';

const limits = { json: 1_000_000, xml: 1_000_000 };
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

describe('readBody', () => {
  it('says at which byte a JSON body stops being UTF-8', () => {
    const raw = Buffer.concat([Buffer.from('{"a":"Bj'), Buffer.from([0xf8]), Buffer.from('rn"}')]);
    const r = readBody(raw, 'json', 'application/fhir+json', limits);
    expect(!r.ok && r.problem.issues[0]!.diagnostics).toBe('Body is not valid UTF-8 (at byte 8)');
  });
});

describe('invalidUtf8At', () => {
  it('finds the first ill-formed sequence by the Unicode table, and -1 for well-formed text', () => {
    expect(invalidUtf8At(Buffer.from('Ærlig 😀 ∑', 'utf8'))).toBe(-1);
    expect(invalidUtf8At(Buffer.from([0x41, 0xc3, 0x28]))).toBe(1); // truncated two-byte sequence
    expect(invalidUtf8At(Buffer.from([0x41, 0x42, 0xc0, 0x80]))).toBe(2); // overlong NUL
    expect(invalidUtf8At(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // an encoded surrogate
    expect(invalidUtf8At(Buffer.from([0x61, 0xf4, 0x90, 0x80, 0x80]))).toBe(1); // above U+10FFFF
    expect(invalidUtf8At(Buffer.from([0x61, 0xe2, 0x82]))).toBe(1); // cut off at the end
  });
});

describe('percent-encoding in queries and forms', () => {
  it('names the first parameter whose escapes are malformed or are not UTF-8, and passes good ones', () => {
    expect(malformedEscape('identifier=%ZZ')).toEqual({ name: 'identifier' });
    expect(malformedEscape('_count=1&identifier=9%ff')).toEqual({ name: 'identifier' });
    expect(malformedEscape('identifier=%ED%A0%80')).toEqual({ name: 'identifier' });
    expect(malformedEscape('na%ffme=1')?.name).toBe('na?me');
    expect(malformedEscape('identifier=urn%3Aoid%3A2.16.578.1.12.4.1.4.1%7C05886610019&name=%C3%85se+Kj%C3%A6rnes')).toBeUndefined();
    expect(malformedEscape('a=100%25&b=x+y')).toBeUndefined();
  });

  it('refuses a form body with such a field, with the field as the expression', () => {
    const r = readBody(Buffer.from('identifier=9%ff'), 'form', 'application/x-www-form-urlencoded', limits);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem.issues[0]).toMatchObject({ code: 'invalid', expression: ['identifier'] });
    const good = readBody(Buffer.from('identifier=%C3%85'), 'form', 'application/x-www-form-urlencoded', limits);
    expect(good.ok && (good.value as URLSearchParams).get('identifier')).toBe('Å');
  });
});
