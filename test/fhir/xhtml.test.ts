import { describe, expect, it } from 'vitest';
import { escapeXml, xhtmlDiv } from '../../src/fhir/xhtml.ts';

/** The text a reader sees: numeric character references decoded. */
const decoded = (markup: string): string => markup.replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n)));

describe('xhtmlDiv', () => {
  it('writes characters beyond Latin-1 as character references, so that they read the same', () => {
    const inner = `<td>${escapeXml('07.04.2008 – 10.03.2025 ≥ 2 💊 Ærlig øl på Åsen')}</td>`;
    const div = xhtmlDiv(inner, 'nb');
    expect(div).toContain('07.04.2008 &#8211; 10.03.2025 &#8805; 2 &#128138; Ærlig øl på Åsen');
    expect(/[^\u0000-\u00FF]/u.test(div)).toBe(false);
    expect(decoded(div)).toBe(`<div xmlns="http://www.w3.org/1999/xhtml" lang="nb" xml:lang="nb">${inner}</div>`);
  });

  it('makes a lone surrogate (hostile or broken upstream text) U+FFFD, never a reference XML forbids', () => {
    const div = xhtmlDiv(`<p>${escapeXml('Ola\uD83D Nordmann \uDE00')}</p>`);
    expect(div).toBe('<div xmlns="http://www.w3.org/1999/xhtml"><p>Ola&#65533; Nordmann &#65533;</p></div>');
    expect(div).not.toMatch(/&#5[5-7]\d{3};/);
  });

  it('leaves Latin-1 text as it is', () => {
    const inner = '<p>Blåbærsyltetøy &amp; «sitat»</p>';
    expect(xhtmlDiv(inner)).toBe(`<div xmlns="http://www.w3.org/1999/xhtml">${inner}</div>`);
  });
});

describe('escapeXml', () => {
  it('escapes markup and strips the characters XML 1.0 forbids', () => {
    expect(escapeXml('<script>alert("x")</script> & \'y\'\u0000\u0007')).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;');
  });
});
