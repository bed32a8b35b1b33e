// How sibling paths are named: `[i]` on every occurrence of a repeated name, nothing on a name that occurs once.
import { describe, expect, it } from 'vitest';
import { siblingSuffixes } from '../../src/xml/element.ts';

describe('siblingSuffixes', () => {
  it('numbers each repeated name on its own, in document order, and leaves single names bare', () => {
    expect(siblingSuffixes(['a', 'b', 'a', 'c', 'a', 'b'])).toEqual(['[0]', '[0]', '[1]', '', '[2]', '[1]']);
  });

  it('gives nothing to no siblings or one', () => {
    expect(siblingSuffixes([])).toEqual([]);
    expect(siblingSuffixes(['only'])).toEqual(['']);
  });

  it('treats names as plain keys, "__proto__" and "constructor" included', () => {
    expect(siblingSuffixes(['__proto__', 'constructor', '__proto__'])).toEqual(['[0]', '', '[1]']);
  });
});
