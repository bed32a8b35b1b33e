// The page around every view: language, landmarks (banner, main, contentinfo), the skip link, the
// signed-in clinician with the sign-out form, the language toggle, and the stylesheet and script served
// by Helsebro itself (no inline style or script, so the strict Content-Security-Policy holds).
import { html, renderHtml, type SafeHtml } from './html.ts';
import { UI, type Lang } from './text.ts';

export const VIEW_BASE = '/view';
export const ASSET_BASE = `${VIEW_BASE}/assets`;

export interface ShellContext {
  lang: Lang;
  /** Demo mode: says so in the banner. */
  demo: boolean;
  /** The signed-in clinician; absent on the sign-in page. */
  user?: { name?: string | undefined; hpr?: string | undefined } | undefined;
  /** The CSRF token the page's POST forms carry (sign-out, search). */
  csrf?: string | undefined;
  /** This page in the other language (a link with ?lang=); absent where the toggle makes no sense. */
  otherLanguageHref?: string | undefined;
}

export interface PageSpec {
  title: string;
  body: SafeHtml;
  /** Extra class on <body> for page-specific print rules. */
  kind: 'summary' | 'prescription' | 'search' | 'signin' | 'error';
  /**
   * Where to move on to at once (meta refresh, allowed under the CSP): a view path after a sign-in that
   * arrived from another site (the next page is then a same-site navigation that carries the SameSite=Strict
   * cookie), or HelseID's sign-out endpoint.
   */
  refresh?: string | undefined;
}

const PRINTABLE = new Set<PageSpec['kind']>(['summary', 'prescription']);

export const t = (texts: Record<Lang, string>, lang: Lang): string => texts[lang];

export function csrfField(token: string | undefined): SafeHtml {
  return token ? html`<input type="hidden" name="csrf" value="${token}">` : html``;
}

export function renderPage(shell: ShellContext, page: PageSpec): string {
  const { lang } = shell;
  const other: Lang = lang === 'nb' ? 'en' : 'nb';
  const user = shell.user
    ? html`<div class="user">
        <span>${t(UI.signedInAs, lang)} <bdi>${shell.user.name ?? shell.user.hpr ?? ''}</bdi>${shell.user.hpr ? html` <span class="hpr">(HPR ${shell.user.hpr})</span>` : ''}</span>
        <form method="post" action="${VIEW_BASE}/signout" class="inline">${csrfField(shell.csrf)}<button type="submit" class="link-button">${t(UI.signOut, lang)}</button></form>
      </div>`
    : html``;
  const toggle = shell.otherLanguageHref
    ? html`<a class="lang-toggle" href="${shell.otherLanguageHref}" hreflang="${other}"><span lang="${other}">${t(UI.otherLanguage, lang)}</span><span class="sr-only"> (${t(UI.otherLanguageLabel, lang)})</span></a>`
    : html``;
  const doc = html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${page.refresh ? html`<meta http-equiv="refresh" content="0;url=${page.refresh}">
` : ''}<title>${page.title} – ${t(UI.appName, lang)}</title>
<link rel="icon" href="${ASSET_BASE}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${ASSET_BASE}/view.css">
<script src="${ASSET_BASE}/view.js" defer></script>
</head>
<body class="page-${page.kind}">
<a class="skip-link" href="#main">${t(UI.skip, lang)}</a>
<header class="banner">
  <div class="banner-inner">
    <p class="brand"><a href="${VIEW_BASE}/">${t(UI.appName, lang)}</a> <span class="tagline">${t(UI.tagline, lang)}</span></p>
    <nav class="tools" aria-label="${lang === 'nb' ? 'Verktøy' : 'Tools'}">
      ${shell.user ? html`<a href="${VIEW_BASE}/">${t(UI.newSearch, lang)}</a>` : ''}
      ${toggle}
      ${PRINTABLE.has(page.kind) ? html`<button type="button" class="link-button print-button" data-print hidden>${t(UI.print, lang)}</button>` : ''}
    </nav>
    ${user}
  </div>
  ${shell.demo ? html`<p class="demo-note">${t(UI.demoBanner, lang)}</p>` : ''}
</header>
<main id="main" tabindex="-1">
${page.body}
</main>
<footer class="page-footer">
  <p><span class="screen-only">${t(UI.footer, lang)}</span><span class="print-only">${t(UI.printedFrom, lang)}. ${t(UI.printNote, lang)}</span></p>
</footer>
</body>
</html>
`;
  return renderHtml(doc);
}
