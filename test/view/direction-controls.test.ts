// Text a clinician or pharmacist reads must read as it was recorded: an explicit direction override left
// open by a source (or a hostile one) reverses the rest of its paragraph. The view and the FHIR narratives
// drop the explicit direction controls; right-to-left letters keep their own direction.
import { describe, expect, it } from 'vitest';
import { withoutDirectionControls, xhtmlDiv } from '../../src/fhir/xhtml.ts';
import { html, renderHtml } from '../../src/view/html.ts';

const CONTROLS = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069'];

describe('explicit direction controls in text shown to a reader', () => {
  it('are dropped, every one of them, and nothing else is', () => {
    for (const c of CONTROLS) expect(withoutDirectionControls(`Penicillin${c} V`)).toBe('Penicillin V');
    expect(withoutDirectionControls('نور Ødegård \u200F')).toBe('نور Ødegård \u200F');
  });

  it('an unterminated override in an allergy text does not reach the view', () => {
    const page = renderHtml(html`<td>${'\u202EPenicillin V'}</td><td>${'Lateks "<b>fet</b>" & \u202Eøtsal\u202C'}</td>`);
    expect(page).toBe('<td>Penicillin V</td><td>Lateks &quot;&lt;b&gt;fet&lt;/b&gt;&quot; &amp; øtsal</td>');
  });

  it('nor a FHIR narrative, as a character or as a character reference', () => {
    const div = xhtmlDiv(`<p>${'\u202EPenicillin V'} \u2067نور\u2069</p>`, 'nb');
    expect(div).not.toMatch(/[\u202A-\u202E\u2066-\u2069]|&#82(3[4-8]|9[0-4]);|&#83(5[0-3]);/);
    expect(div).toContain('<p>Penicillin V &#1606;&#1608;&#1585;</p>');
  });
});
