// Small readers for rendered pages in tests that run without a browser.

/** The markup of `<section ... id="{id}" ...>` up to its closing tag (the view never nests sections). */
export function sectionHtml(page: string, id: string): string {
  const start = page.search(new RegExp(`<section[^>]*\\sid="${id}"`));
  if (start < 0) throw new Error(`no section #${id}`);
  const end = page.indexOf('</section>', start);
  return page.slice(start, end + '</section>'.length);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };

/** Visible text: tags removed, entities decoded, whitespace collapsed. */
export function textOf(markup: string): string {
  return markup
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) => ENTITIES[e]!)
    .replace(/\s+/g, ' ')
    .trim();
}

/** The cells of each body row of the first table in some markup, as text. */
export function tableRows(markup: string): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(markup)?.[1] ?? '';
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => textOf(c[1]!)));
}
