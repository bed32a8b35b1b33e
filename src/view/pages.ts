// The small pages around the summary: finding a patient by fødselsnummer (a POST, so the number never
// appears in a URL or an access log), the demo sign-in, and errors. Pure.
import { html, type SafeHtml } from './html.ts';
import { csrfField, renderPage, VIEW_BASE, type ShellContext } from './layout.ts';
import { formatPersonNumber, type Lang } from './text.ts';

export interface DemoPatientLink {
  id: string;
  name: string;
  fnr: string;
  /** One line about the persona, in English. */
  story: string;
}

export interface SearchPageInput {
  shell: ShellContext;
  /** Why the last search found no one; the number itself is never echoed back. */
  error?: 'invalid' | 'not-found' | undefined;
  /** Demo mode: the demo population, so a visitor has numbers to try. */
  demoPatients?: readonly DemoPatientLink[] | undefined;
}

export function renderSearchPage(input: SearchPageInput): string {
  const { lang } = input.shell;
  const title = lang === 'nb' ? 'Finn pasient' : 'Find a patient';
  const errorText =
    input.error === 'invalid'
      ? lang === 'nb'
        ? 'Det er ikke et gyldig fødselsnummer eller D-nummer (11 siffer med riktige kontrollsiffer).'
        : 'That is not a valid national identity number or D number (11 digits with valid check digits).'
      : input.error === 'not-found'
        ? lang === 'nb'
          ? 'Fant ingen pasient med det nummeret.'
          : 'No patient with that number was found.'
        : undefined;
  const describedBy = errorText ? 'fnr-help fnr-error' : 'fnr-help';
  const body = html`<h1>${title}</h1>
<form method="post" action="${VIEW_BASE}/search" class="search-form" novalidate>
  ${csrfField(input.shell.csrf)}
  <label for="fnr">${lang === 'nb' ? 'Fødselsnummer eller D-nummer' : 'National identity number or D number'}</label>
  <p id="fnr-help" class="help">${lang === 'nb' ? '11 siffer. Nummeret sendes i skjemaet og vises aldri i adressen.' : '11 digits. The number is sent in the form and never shown in the address.'}</p>
  ${errorText ? html`<p id="fnr-error" class="field-error" role="alert">${errorText}</p>` : ''}
  <input id="fnr" name="fnr" type="text" inputmode="numeric" autocomplete="off" spellcheck="false" maxlength="13" required aria-describedby="${describedBy}"${errorText ? html` aria-invalid="true" autofocus` : ''}>
  <button type="submit">${lang === 'nb' ? 'Vis pasient' : 'Show patient'}</button>
</form>
<form method="get" action="${VIEW_BASE}/prescription" class="search-form secondary">
  <label for="prescription-id">${lang === 'nb' ? 'EU-resept (for apotekdisken): Helsebro-ID' : 'EU prescription (for the pharmacy counter): Helsebro id'}</label>
  <input id="prescription-id" name="id" type="text" autocomplete="off" spellcheck="false" maxlength="64" required>
  <button type="submit">${lang === 'nb' ? 'Vis resept' : 'Show prescription'}</button>
</form>
${input.demoPatients?.length ? demoList(input.demoPatients, lang) : ''}`;
  return renderPage(input.shell, { title, kind: 'search', body });
}

function demoList(patients: readonly DemoPatientLink[], lang: Lang): SafeHtml {
  const rows = patients.map(
    (p) => html`<tr><th scope="row"><a href="${VIEW_BASE}/patient/${encodeURIComponent(p.id)}"><bdi>${p.name}</bdi></a></th><td class="nowrap">${formatPersonNumber(p.fnr)}</td><td lang="en">${p.story}</td></tr>`,
  );
  return html`<section class="demo-patients" aria-labelledby="demo-heading">
<h2 id="demo-heading">${lang === 'nb' ? 'Demopasienter' : 'Demo patients'}</h2>
<p>${lang === 'nb' ? 'Oppdiktede pasienter med syntetiske fødselsnumre.' : 'Fictitious patients with synthetic identity numbers.'}</p>
<table class="data">
<caption class="sr-only">${lang === 'nb' ? 'Demopasienter' : 'Demo patients'}</caption>
<thead><tr><th scope="col">${lang === 'nb' ? 'Navn' : 'Name'}</th><th scope="col">${lang === 'nb' ? 'Fødselsnummer' : 'Identity number'}</th><th scope="col">${lang === 'nb' ? 'Om' : 'About'}</th></tr></thead>
<tbody>${rows}</tbody>
</table>
</section>`;
}

export interface DemoClinician {
  hpr: string;
  name: string;
  /** What they are (lege, sykepleier, farmasøyt) and where they work. */
  description: string;
}

export interface SignInPageInput {
  shell: ShellContext;
  clinicians: readonly DemoClinician[];
  /** Where to go after signing in (a /view path the router checked). */
  next?: string | undefined;
  error?: boolean | undefined;
}

export function renderSignInPage(input: SignInPageInput): string {
  const { lang } = input.shell;
  const title = lang === 'nb' ? 'Logg inn (demo)' : 'Sign in (demo)';
  const options = input.clinicians.map(
    (c, i) => html`<div class="choice">
  <input type="radio" name="hpr" id="hpr-${c.hpr}" value="${c.hpr}"${i === 0 ? html` checked` : ''}>
  <label for="hpr-${c.hpr}"><bdi>${c.name}</bdi> <span class="hpr">(HPR ${c.hpr})</span> <span class="desc">${c.description}</span></label>
</div>`,
  );
  const body = html`<h1>${title}</h1>
<p>${
    lang === 'nb'
      ? 'I demomodus velger du en oppdiktet kliniker. Helsebro utsteder et kortlivet token for klinikeren og holder det i en sikker informasjonskapsel. I produksjon logger klinikere inn med HelseID.'
      : 'In demo mode you pick a fictitious clinician. Helsebro issues a short-lived token for them and keeps it in a secure cookie. In production clinicians sign in with HelseID.'
  }</p>
${input.error ? html`<p class="field-error" role="alert">${lang === 'nb' ? 'Velg en av klinikerne i listen.' : 'Pick one of the clinicians in the list.'}</p>` : ''}
<form method="post" action="${VIEW_BASE}/signin" class="signin-form">
  ${csrfField(input.shell.csrf)}
  ${input.next ? html`<input type="hidden" name="next" value="${input.next}">` : ''}
  <fieldset>
    <legend>${lang === 'nb' ? 'Kliniker' : 'Clinician'}</legend>
    ${options}
  </fieldset>
  <button type="submit">${lang === 'nb' ? 'Logg inn' : 'Sign in'}</button>
</form>`;
  return renderPage(input.shell, { title, kind: 'signin', body });
}

export interface ErrorPageInput {
  shell: ShellContext;
  status: number;
  /** Plain text; never personal data. */
  message?: string | undefined;
  /** The way on, instead of the link back to the search (e.g. sign in again). */
  action?: { href: string; label: string } | undefined;
}

const ERROR_TITLE: Record<number, Record<Lang, string>> = {
  400: { nb: 'Ugyldig forespørsel', en: 'Bad request' },
  401: { nb: 'Innlogging kreves', en: 'Sign-in required' },
  403: { nb: 'Ingen tilgang', en: 'Access denied' },
  404: { nb: 'Ikke funnet', en: 'Not found' },
  413: { nb: 'Skjemaet er for stort', en: 'The form is too large' },
  429: { nb: 'For mange forespørsler', en: 'Too many requests' },
  503: { nb: 'Midlertidig utilgjengelig', en: 'Temporarily unavailable' },
};

export function renderErrorPage(input: ErrorPageInput): string {
  const { lang } = input.shell;
  const title = ERROR_TITLE[input.status]?.[lang] ?? (lang === 'nb' ? 'Noe gikk galt' : 'Something went wrong');
  const body = html`<h1>${title}</h1>
${input.message ? html`<p class="error-message">${input.message}</p>` : ''}
<p>${input.action ? html`<a href="${input.action.href}">${input.action.label}</a>` : html`<a href="${VIEW_BASE}/">${lang === 'nb' ? 'Til søket' : 'Back to the search'}</a>`}</p>`;
  return renderPage(input.shell, { title, kind: 'error', body });
}

/**
 * A step of signing in or out that moves on to `next` at once (meta refresh), with a link for browsers that
 * do not: after HelseID's redirect back (so the next page is a same-site navigation), and on the way to
 * HelseID's sign-out (a redirect answering a form may not leave the origin under form-action 'self').
 */
export function renderMovingOnPage(input: { shell: ShellContext; next: string; step: 'signed-in' | 'signing-out' }): string {
  const { lang } = input.shell;
  const title =
    input.step === 'signed-in' ? (lang === 'nb' ? 'Innlogget' : 'Signed in') : lang === 'nb' ? 'Logger ut av HelseID' : 'Signing out of HelseID';
  const body = html`<h1>${title}</h1>
<p><a href="${input.next}">${lang === 'nb' ? 'Fortsett' : 'Continue'}</a></p>`;
  return renderPage(input.shell, { title, kind: 'signin', body, refresh: input.next });
}

/** After signing out (at HelseID too, in production). */
export function renderSignedOutPage(input: { shell: ShellContext; signInHref: string }): string {
  const { lang } = input.shell;
  const title = lang === 'nb' ? 'Du er logget ut' : 'You are signed out';
  const body = html`<h1>${title}</h1>
<p><a href="${input.signInHref}">${lang === 'nb' ? 'Logg inn igjen' : 'Sign in again'}</a></p>`;
  return renderPage(input.shell, { title, kind: 'signin', body });
}
