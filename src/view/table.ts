// One accessible data table: a caption, column headers with scope, the naming column as row headers,
// "not stated" spelled out for screen readers, an optional sort link in a header (works without
// script), and long lists collapsed behind a <details> with the count (works without script too).
import { html, type SafeHtml } from './html.ts';
import type { Row } from './summary-rows.ts';
import { UI, type Lang } from './text.ts';

export interface TableColumn {
  label: string;
  rowHeader?: boolean | undefined;
  sort?: { href: string; state: 'ascending' | 'descending' | 'none'; nextLabel: string } | undefined;
}

export interface TableSpec {
  id: string;
  caption: string;
  columns: TableColumn[];
  rows: Row[];
  lang: Lang;
  /** Rows shown before the rest collapse; lists only a little longer are shown whole. */
  visibleRows?: number;
}

export const VISIBLE_ROWS = 5;
/** A list collapses only when it hides at least this many rows: hiding one row saves nothing. */
const MIN_HIDDEN = 2;

const CRITICAL = { nb: 'Kritisk', en: 'Critical' };

export function renderTable(spec: TableSpec): SafeHtml {
  const visible = spec.visibleRows ?? VISIBLE_ROWS;
  const collapse = spec.rows.length - visible >= MIN_HIDDEN;
  const shown = collapse ? spec.rows.slice(0, visible) : spec.rows;
  const hidden = collapse ? spec.rows.slice(visible) : [];
  const lang = spec.lang;
  const first = table(spec, shown, spec.caption, true);
  if (!hidden.length) return first;
  const summary =
    lang === 'nb'
      ? `Vis ${hidden.length} til (${spec.rows.length} i alt)`
      : `Show ${hidden.length} more (${spec.rows.length} in all)`;
  const rest = table(spec, hidden, `${spec.caption} (${lang === 'nb' ? 'fortsettelse' : 'continued'})`, false);
  return html`${first}<details class="more" id="${spec.id}-more"><summary>${summary}</summary>${rest}</details>`;
}

function table(spec: TableSpec, rows: Row[], caption: string, withSort: boolean): SafeHtml {
  const head = spec.columns.map((c) => {
    if (!c.sort || !withSort) return html`<th scope="col">${c.label}</th>`;
    const arrow = c.sort.state === 'descending' ? '▼' : c.sort.state === 'ascending' ? '▲' : '↕';
    return html`<th scope="col" aria-sort="${c.sort.state}"><a class="sort" href="${c.sort.href}">${c.label}<span class="sr-only"> (${c.sort.nextLabel})</span> <span class="arrow" aria-hidden="true">${arrow}</span></a></th>`;
  });
  const body = rows.map((r) => {
    const cells = spec.columns.map((c, i) => {
      const value = r.cells[i];
      const content = value ? html`${value}` : html`<span class="none" aria-hidden="true">–</span><span class="sr-only">${UI.notStated[spec.lang]}</span>`;
      const badge = c.rowHeader && r.critical ? html`<span class="badge-critical">${CRITICAL[spec.lang]}</span> ` : '';
      return c.rowHeader ? html`<th scope="row">${badge}${content}</th>` : html`<td>${content}</td>`;
    });
    return html`<tr${r.critical ? html` class="critical"` : ''}>${cells}</tr>`;
  });
  return html`<table class="data" id="${withSort ? spec.id : `${spec.id}-rest`}">
<caption class="sr-only">${caption}</caption>
<thead><tr>${head}</tr></thead>
<tbody>${body}</tbody>
</table>`;
}
