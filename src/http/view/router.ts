// The clinician view under /view: server-rendered pages from the same functions the FHIR API uses (the
// $summary document from summaryDocument, the same access rules and AuditEvent), with a server-side
// session instead of a bearer header. Read top-down, a page request goes: CSP -> assets (public) -> form
// body (small, urlencoded only) -> language and CSRF cookies -> sign-in (demo page, or HelseID: login,
// EPJ launch, callback) and sign-out -> session (the cookie's opaque id -> the stored session -> its
// view-audience token through auth.view.verify) -> rate limit -> page: scope, handler, audit, render.
import { readFileSync } from 'node:fs';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { ClinicianPrincipal, Principal } from '../../auth/principal.ts';
import { DEMO_VIEW_AUDIENCE } from '../../auth/demo-issuer.ts';
import { newNonce, newPkceVerifier, newState, SignInError } from '../../auth/helseid.ts';
import type { AuthSetup } from '../../auth/setup.ts';
import type { Config } from '../../config.ts';
import { PERSONA_LIST } from '../../demo/personas.ts';
import { OID, parsePersonNumber } from '../../fhir/identifiers.ts';
import { isProblem, notFound, type Problem } from '../../fhir/outcomes.ts';
import type { Logger } from '../../log.ts';
import { DEMO_HPR } from '../../registries/hpr.ts';
import type { SummarySource } from '../../sources/source.ts';
import { isStoreUnreachable, type Db } from '../../store/db.ts';
import { abortDetails, isClientAbort } from '../client-errors.ts';
import { SEARCHABLE_TYPES } from '../../summary/sections.ts';
import type { ShellContext } from '../../view/layout.ts';
import {
  renderErrorPage,
  renderSearchPage,
  renderMovingOnPage,
  renderSignedOutPage,
  renderSignInPage,
  type DemoClinician,
} from '../../view/pages.ts';
import { renderPatientPage } from '../../view/patient-page.ts';
import { renderPrescriptionPage } from '../../view/prescription-page.ts';
import { isProblemSort } from '../../view/summary-rows.ts';
import { isLang, type Lang } from '../../view/text.ts';
import { auditCall, type AuditedRoute } from '../auth.ts';
import { outcomeOf } from '../respond.ts';
import { decideRequest } from '../decide.ts';
import { FHIR_ID, locator, patientByPersonNumber, patientFromPath, rowPatient, type StoredPatient } from '../locate.ts';
import { SUMMARY_OPERATION, summaryDocument } from '../handlers/summary.ts';
import type { AuditNotes, FhirRequest, Found, HandlerResult, ProtectedRoute, RouteContext, RouteDef } from '../types.ts';
import { findEuPrescription, type EuPrescriptionRow } from './prescriptions.ts';
import { createLogin, createSession, deleteSession, findSession, LOGIN_TTL_SEC, sessionState, takeLogin, touchSession } from './session-store.ts';
import {
  clearCookie,
  cookieId,
  CSRF_COOKIE,
  csrfFromCookie,
  csrfMatches,
  LANG_COOKIE,
  LOGIN_COOKIE,
  newCsrfToken,
  parseCookies,
  safeNext,
  sameOriginFetch,
  serializeCookie,
  SESSION_COOKIE,
  SESSION_TTL_SEC,
} from './session.ts';
import { summaryVocabulary } from './vocabulary.ts';

/** The view's own policy: its stylesheet and script from this origin, nothing inline, forms only to itself. */
export const VIEW_CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** What the view's token may do (demo sign-in and HelseID alike): read the patient and every summary section, and EU prescriptions. */
export const VIEW_SCOPES = ['Patient', ...SEARCHABLE_TYPES, 'MedicationRequest'].map((t) => `user/${t}.rs`).join(' ');

export interface ViewDeps {
  config: Config;
  db: Db;
  log: Logger;
  auth: AuthSetup;
  version: string;
  summarySources: readonly SummarySource[];
  /** The same per-request context the FHIR handlers get (app.ts builds it). */
  routeContext(log: Logger, principal: Principal | undefined, notes: AuditNotes): RouteContext;
  now?: () => Date;
}

// The view's pages as protected routes: the same declarations (roles, scopes, patient, audit) as the FHIR
// endpoints they mirror, decided by the same decideRequest, so an auditor sees a page view as the API call
// it equals. Only clinicians use the view.
const notAFhirRoute = (): Promise<HandlerResult> => Promise.reject(new Error('view routes are not served through the FHIR router'));
export const SUMMARY_PAGE: ProtectedRoute<StoredPatient> = {
  method: 'GET',
  path: '/view/patient/:id',
  resourceType: 'Patient',
  interaction: 'operation',
  operation: { name: 'summary', level: 'instance', definition: SUMMARY_OPERATION },
  access: { admits: ['clinician'], scope: { resourceType: 'Patient', interaction: 'r' }, audit: 'R', patient: patientFromPath },
  documentation: 'The clinician view of a patient summary.',
  handler: notAFhirRoute,
};
/** The form's fødselsnummer (already validated by the page) names the patient. */
const formPatient = locator('parameters-body', 'fnr', async (req, ctx): Promise<Found<StoredPatient> | Problem> => {
  const number = req.body instanceof URLSearchParams ? (req.body.get('fnr') ?? '') : '';
  const found = await patientByPersonNumber(number, ctx.db);
  if (isProblem(found)) return found;
  return { patient: { id: found.id, fnr: number }, loaded: found };
});
export const SEARCH_FORM: ProtectedRoute<StoredPatient> = {
  method: 'POST',
  path: '/view/search',
  resourceType: 'Patient',
  interaction: 'search-type',
  access: { admits: ['clinician'], scope: { resourceType: 'Patient', interaction: 's' }, audit: 'E', patient: formPatient },
  documentation: 'Finding a patient by fødselsnummer in the clinician view.',
  handler: notAFhirRoute,
};
/** The EU prescription the page names (by Helsebro id or EU prescription id) and its patient. */
const euPrescription = locator('stored', 'MedicationRequest', async (req, ctx): Promise<Found<EuPrescriptionRow> | Problem> => {
  const id = req.params.id ?? '';
  const row = FHIR_ID.test(id) ? await findEuPrescription(ctx.db, id) : undefined;
  if (!row) return notFound('No EU prescription with that id');
  ctx.audit.resourceId = row.id;
  if (row.patientId && !row.patientFnr) ctx.audit.patient = { id: row.patientId };
  return { patient: rowPatient(row), loaded: row };
});
export const PRESCRIPTION_PAGE: ProtectedRoute<EuPrescriptionRow> = {
  method: 'GET',
  path: '/view/prescription/:id',
  resourceType: 'MedicationRequest',
  interaction: 'read',
  access: { admits: ['clinician'], scope: { resourceType: 'MedicationRequest', interaction: 'r' }, audit: 'R', source: 'eprescription', patient: euPrescription },
  documentation: 'The printable view of an EU prescription for the pharmacy counter.',
  handler: notAFhirRoute,
};

const ASSETS: Record<string, string> = {
  'view.css': 'text/css; charset=utf-8',
  'view.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

function loadAssets(): Map<string, { body: Buffer; type: string }> {
  const dir = new URL('../../view/assets/', import.meta.url);
  return new Map(Object.entries(ASSETS).map(([name, type]) => [name, { body: readFileSync(new URL(name, dir)), type }]));
}

interface ViewLocals {
  lang: Lang;
  csrf: string;
  secure: boolean;
  cookies: Map<string, string>;
  principal?: ClinicianPrincipal;
}

const locals = (res: Response): ViewLocals => res.locals.view as ViewLocals;
/** An EPJ's launch id: opaque to Helsebro, passed on to HelseID, so kept to URL-safe characters. */
const LAUNCH_ID = /^[A-Za-z0-9._~+/=-]{1,512}$/;

export function createViewRouter(deps: ViewDeps): express.Router {
  const { config } = deps;
  const demo = config.mode === 'demo';
  const now = deps.now ?? (() => new Date());
  const assets = loadAssets();
  const router = express.Router();

  router.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', VIEW_CSP);
    next();
  });

  router.get('/assets/:name', (req, res) => {
    const asset = assets.get(pathParam(req, 'name'));
    if (!asset) return void res.status(404).type('text/plain').send('Not found');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type(asset.type).send(asset.body);
  });

  router.use(express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 }));

  // Language (?lang= sticks as a cookie) and the CSRF cookie every form needs.
  router.use((req, res, next) => {
    const cookies = parseCookies(req.headers.cookie);
    const secure = req.secure || (config.publicBaseUrl?.startsWith('https:') ?? false);
    const asked = req.query.lang;
    let lang: Lang = 'nb';
    if (isLang(asked)) {
      lang = asked;
      res.append('Set-Cookie', serializeCookie(LANG_COOKIE, lang, { secure, maxAgeSec: 365 * 24 * 3600 }));
    } else {
      const remembered = cookies.get(LANG_COOKIE);
      if (isLang(remembered)) lang = remembered;
    }
    let csrf = csrfFromCookie(cookies);
    if (!csrf) {
      csrf = newCsrfToken();
      res.append('Set-Cookie', serializeCookie(CSRF_COOKIE, csrf, { secure }));
    }
    res.locals.view = { lang, csrf, secure, cookies } satisfies ViewLocals;
    next();
  });

  const shell = (res: Response): ShellContext => {
    const v = locals(res);
    return {
      lang: v.lang,
      demo,
      csrf: v.csrf,
      user: v.principal ? { name: v.principal.name, hpr: v.principal.hpr } : undefined,
    };
  };
  const page = (res: Response, status: number, body: string): void => {
    res.status(status).type('text/html; charset=utf-8').send(body);
  };
  const errorPage = (res: Response, status: number, message?: string, action?: { href: string; label: string }): void =>
    page(res, status, renderErrorPage({ shell: { ...shell(res), otherLanguageHref: undefined }, status, message, action }));

  /** A POST must carry the CSRF token of its own browser and come from this origin. */
  const checkForm = (req: Request, res: Response): boolean => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (csrfMatches(locals(res).csrf, body.csrf) && sameOriginFetch(req.header('sec-fetch-site'))) return true;
    const lang = locals(res).lang;
    errorPage(
      res,
      403,
      lang === 'nb' ? 'Skjemaet kunne ikke godtas (utløpt eller sendt fra en annen side). Last siden på nytt og prøv igjen.' : 'The form could not be accepted (expired or sent from another site). Reload the page and try again.',
    );
    return false;
  };

  // The demo sign-in page exists in demo mode only; in production clinicians sign in with HelseID (/login).
  router.get('/signin', (req, res) => {
    if (!demo) return errorPage(res, 404);
    page(res, 200, renderSignInPage({ shell: { ...shell(res), user: undefined, otherLanguageHref: langHref(req, res) }, clinicians: DEMO_CLINICIANS, next: safeNext(req.query.next) }));
  });

  router.post(
    '/signin',
    wrap(async (req, res) => {
      if (!demo || !deps.auth.demoIssuer) return errorPage(res, 404);
      if (!checkForm(req, res)) return;
      const body = req.body as Record<string, unknown>;
      const person = DEMO_HPR.find((p) => p.hpr === body.hpr);
      if (!person) {
        return page(res, 400, renderSignInPage({ shell: { ...shell(res), user: undefined }, clinicians: DEMO_CLINICIANS, next: safeNext(body.next), error: true }));
      }
      const token = await deps.auth.demoIssuer.issueDemoToken({
        scope: VIEW_SCOPES,
        hpr: person.hpr,
        org: person.workplaces.find((w) => w.orgnr)?.orgnr,
        role: person.authorizations[0]?.category.code,
        purpose: 'TREAT',
        name: [...person.given, person.family].join(' '),
        ttlSec: SESSION_TTL_SEC,
        audience: DEMO_VIEW_AUDIENCE,
      });
      await beginSession(res, { accessToken: token, tokenExpiresAt: Math.floor(now().getTime() / 1000) + SESSION_TTL_SEC });
      res.redirect(303, safeNext(body.next) ?? '/view/');
    }),
  );

  /** Stores the session and gives the browser its id (and a new CSRF token, so one fixed before sign-in is useless after it). */
  const beginSession = async (res: Response, session: Parameters<typeof createSession>[1]): Promise<void> => {
    const at = now();
    const { secure, cookies } = locals(res);
    // A sign-in ends the session this browser held: two people at one workstation must not leave the first
    // one's session alive behind the second's, to be signed out of separately or not at all.
    const previous = cookieId(cookies, SESSION_COOKIE);
    if (previous) await deleteSession(deps.db, previous);
    const { id, expiresAt } = await createSession(deps.db, session, at, config.viewSession);
    res.append('Set-Cookie', serializeCookie(SESSION_COOKIE, id, { secure, maxAgeSec: Math.ceil((expiresAt.getTime() - at.getTime()) / 1000) }));
    res.append('Set-Cookie', serializeCookie(CSRF_COOKIE, newCsrfToken(), { secure }));
  };

  const signInHref = (next?: string): string => `/view/${demo ? 'signin' : 'login'}${next ? `?next=${encodeURIComponent(next)}` : ''}`;
  const helseid = deps.auth.helseid;
  const publicBase = config.publicBaseUrl;
  const fhirBase = publicBase ? `${publicBase}/fhir` : undefined;
  const say = (res: Response, nb: string, en: string): string => (locals(res).lang === 'nb' ? nb : en);

  /** Starts an authorization request at HelseID: state, nonce and PKCE verifier stored, bound to this browser. */
  const startSignIn = async (res: Response, opts: { next?: string | undefined; launch?: { id: string; aud: string } | undefined }): Promise<void> => {
    if (!helseid) return errorPage(res, 404);
    const pending = { state: newState(), nonce: newNonce(), codeVerifier: newPkceVerifier(), launch: opts.launch?.id, next: opts.next };
    let url: URL;
    try {
      url = await helseid.authorizationUrl({ ...pending, apiScopes: VIEW_SCOPES, launch: opts.launch });
    } catch (err) {
      res.req.log.warn({ reason: err instanceof SignInError ? err.reason : String(err) }, 'HelseID unavailable');
      return errorPage(res, 503, say(res, 'HelseID kan ikke nås akkurat nå. Prøv igjen om litt.', 'HelseID cannot be reached right now. Try again shortly.'));
    }
    const id = await createLogin(deps.db, pending, now());
    res.append('Set-Cookie', serializeCookie(LOGIN_COOKIE, id, { secure: locals(res).secure, maxAgeSec: LOGIN_TTL_SEC, sameSite: 'Lax' }));
    res.redirect(303, url.href);
  };

  // HelseID sign-in (production): the authorization code flow with PKCE, state and nonce.
  router.get(
    '/login',
    wrap(async (req, res) => {
      if (demo) return res.redirect(303, signInHref(safeNext(req.query.next)));
      await startSignIn(res, { next: safeNext(req.query.next) });
    }),
  );

  // SMART App Launch, EHR launch: the EPJ opens /view/launch?iss=<this FHIR base>&launch=<its launch id>.
  router.get(
    '/launch',
    wrap(async (req, res) => {
      if (!helseid || !fhirBase) return errorPage(res, 404, say(res, 'Oppstart fra journalsystem krever HelseID (produksjon).', 'Launch from an EHR needs HelseID (production).'));
      const { iss, launch } = req.query;
      if (typeof iss !== 'string' || iss.replace(/\/$/, '') !== fhirBase) {
        return errorPage(res, 400, say(res, 'Oppstarten nevner en annen FHIR-tjener enn denne (iss).', 'The launch names another FHIR server than this one (iss).'));
      }
      if (typeof launch !== 'string' || !LAUNCH_ID.test(launch)) {
        return errorPage(res, 400, say(res, 'Oppstarten mangler en gyldig launch-verdi.', 'The launch has no valid launch value.'));
      }
      await startSignIn(res, { launch: { id: launch, aud: fhirBase } });
    }),
  );

  // HelseID's redirect back. The sign-in cookie names the stored request (taken once, so a replayed
  // callback finds nothing); openid-client checks state, nonce, PKCE and the ID token; the access token
  // is then verified as the view's (its audience) and read as the API reads tokens (principal.ts).
  router.get(
    '/callback',
    wrap(async (req, res) => {
      if (!helseid) return errorPage(res, 404);
      const { secure } = locals(res);
      res.append('Set-Cookie', clearCookie(LOGIN_COOKIE, secure));
      const loginId = cookieId(locals(res).cookies, LOGIN_COOKIE);
      const pending = loginId ? await takeLogin(deps.db, loginId, now()) : undefined;
      const again = { href: signInHref(), label: say(res, 'Logg inn på nytt', 'Sign in again') };
      const refuse = (status: number, reason: string, nb: string, en: string): void => {
        req.log.info({ reason }, 'view sign-in refused');
        errorPage(res, status, say(res, nb, en), again);
      };
      if (!pending) return refuse(400, 'no pending sign-in', 'Innloggingen er utløpt eller allerede brukt.', 'The sign-in has expired or was already used.');
      const query = new URLSearchParams(Object.entries(req.query).filter((e): e is [string, string] => typeof e[1] === 'string'));
      let tokens;
      try {
        tokens = await helseid.redeem(query, pending);
      } catch (err) {
        if (err instanceof SignInError && err.kind === 'refused') {
          return refuse(400, err.reason, 'HelseID-innloggingen kunne ikke godtas.', 'The HelseID sign-in could not be accepted.');
        }
        req.log.warn({ reason: err instanceof SignInError ? err.reason : String(err) }, 'HelseID unavailable');
        return errorPage(res, 503, say(res, 'HelseID kan ikke nås akkurat nå. Prøv igjen om litt.', 'HelseID cannot be reached right now. Try again shortly.'), again);
      }
      const principal = await deps.auth.view.verify(`Bearer ${tokens.accessToken}`, (reason) => req.log.info({ reason }, 'view token refused'));
      if (isProblem(principal)) {
        return principal.status === 503
          ? errorPage(res, 503)
          : refuse(400, 'access token refused', 'HelseID-innloggingen kunne ikke godtas.', 'The HelseID sign-in could not be accepted.');
      }
      if (principal.subject !== tokens.subject) return refuse(400, 'access token subject differs from ID token', 'HelseID-innloggingen kunne ikke godtas.', 'The HelseID sign-in could not be accepted.');
      if (principal.kind !== 'clinician') return errorPage(res, 403, say(res, 'Visningen er for helsepersonell.', 'The view is for health personnel.'));
      if (pending.launch && !tokens.patient) return refuse(400, 'launch without patient context', 'Oppstarten fra journalsystemet ga ingen pasient.', 'The launch from the EHR named no patient.');
      await beginSession(res, { accessToken: tokens.accessToken, idToken: tokens.idToken, launchPatient: tokens.patient, tokenExpiresAt: principal.expiresAt });
      const next = tokens.patient ? `/view/patient/${encodeURIComponent(tokens.patient)}` : (safeNext(pending.next) ?? '/view/');
      page(res, 200, renderMovingOnPage({ shell: { ...shell(res), user: undefined }, next, step: 'signed-in' }));
    }),
  );

  router.get('/signed-out', (_req, res) => {
    page(res, 200, renderSignedOutPage({ shell: { ...shell(res), user: undefined }, signInHref: signInHref() }));
  });

  // Signing out ends the stored session, and in production HelseID's session too (RP-initiated logout).
  router.post(
    '/signout',
    wrap(async (req, res) => {
      if (!checkForm(req, res)) return;
      const { secure } = locals(res);
      const id = cookieId(locals(res).cookies, SESSION_COOKIE);
      const ended = id ? await deleteSession(deps.db, id) : undefined;
      res.append('Set-Cookie', clearCookie(SESSION_COOKIE, secure));
      res.append('Set-Cookie', serializeCookie(CSRF_COOKIE, newCsrfToken(), { secure }));
      if (helseid && publicBase) {
        const url = await helseid.endSessionUrl(ended?.idToken, `${publicBase}/view/signed-out`).catch((err: unknown) => {
          req.log.warn({ reason: err instanceof SignInError ? err.reason : String(err) }, 'HelseID sign-out unavailable');
          return undefined;
        });
        if (url) return page(res, 200, renderMovingOnPage({ shell: { ...shell(res), user: undefined }, next: url.href, step: 'signing-out' }));
      }
      res.redirect(303, demo ? '/view/signin' : '/view/signed-out');
    }),
  );

  // Every other page needs a session: the cookie's id names a stored session within its timeouts, whose
  // token verifies as the view's (the view audience, which the API's verifier refuses).
  router.use(
    wrap(async (req, res, next) => {
      const { cookies, secure } = locals(res);
      const id = cookieId(cookies, SESSION_COOKIE);
      const wanted = req.method === 'GET' ? safeNext(req.baseUrl + req.path) : undefined;
      if (!id) {
        if (cookies.has(SESSION_COOKIE)) res.append('Set-Cookie', clearCookie(SESSION_COOKIE, secure));
        return res.redirect(303, signInHref(wanted));
      }
      const session = await findSession(deps.db, id);
      const state = session ? sessionState(session, now(), config.viewSession.idleSec) : 'expired';
      const result =
        session && state === 'active'
          ? await deps.auth.view.verify(`Bearer ${session.accessToken}`, (reason) => req.log.info({ reason }, 'view session refused'))
          : undefined;
      if (result && isProblem(result) && result.status === 503) return errorPage(res, 503);
      if (!result || isProblem(result)) {
        if (session) await deleteSession(deps.db, id);
        res.append('Set-Cookie', clearCookie(SESSION_COOKIE, secure));
        req.log.info({ reason: session ? (state === 'active' ? 'token refused' : state) : 'unknown session' }, 'view session ended');
        return errorPage(
          res,
          401,
          state === 'idle'
            ? say(res, 'Økten ble avsluttet etter en tid uten bruk.', 'The session ended after a while without use.')
            : say(res, 'Økten er avsluttet.', 'The session has ended.'),
          { href: signInHref(wanted), label: say(res, 'Logg inn på nytt', 'Sign in again') },
        );
      }
      if (result.kind !== 'clinician') {
        return errorPage(res, 403, say(res, 'Visningen er for helsepersonell.', 'The view is for health personnel.'));
      }
      await touchSession(deps.db, id, now());
      // A session the EHR launched for one patient carries that context into every decision (ACCESS-LAUNCH-CONTEXT).
      locals(res).principal = session?.launchPatient ? { ...result, launchPatient: session.launchPatient } : result;
      next();
    }),
  );

  router.use(
    rateLimit({
      windowMs: 60_000,
      limit: config.rateLimitPerMinute,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      keyGenerator: (req, res) => {
        const p = locals(res).principal;
        return p ? `view:${p.clientId}:${p.subject}` : `view-ip:${ipKeyGenerator(req.ip ?? '')}`;
      },
      handler: (_req, res) => errorPage(res, 429),
    }),
  );

  router.get('/', (req, res) => {
    page(res, 200, renderSearchPage({ shell: { ...shell(res), otherLanguageHref: langHref(req, res) }, demoPatients: demo ? DEMO_PATIENTS : undefined }));
  });

  router.post(
    '/search',
    wrap(async (req, res) => {
      if (!checkForm(req, res)) return;
      const v = locals(res);
      const raw = (req.body as Record<string, unknown>).fnr;
      const number = typeof raw === 'string' ? raw.replace(/[\s.-]/g, '') : '';
      const searchShell = { ...shell(res), otherLanguageHref: '/view/?lang=' + (v.lang === 'nb' ? 'en' : 'nb') };
      const parsed = parsePersonNumber(number);
      if (!parsed) return page(res, 400, renderSearchPage({ shell: searchShell, error: 'invalid', demoPatients: demo ? DEMO_PATIENTS : undefined }));
      const notes: AuditNotes = {};
      const ctx = deps.routeContext(req.log, v.principal, notes);
      const decided = await decideRequest(SEARCH_FORM.access, v.principal!, viewRequest(req, { body: new URLSearchParams({ fnr: number }) }), ctx);
      const result: HandlerResult = isProblem(decided) ? decided : { status: 200, body: '', contentType: 'text/html' };
      const patientId = isProblem(decided) ? undefined : decided.loaded.id;
      const system = parsed.kind === 'dnr' ? OID.dnr : OID.fnr;
      // The same record as GET /fhir/Patient?identifier=...: the audit store is where the number may be kept.
      await audit(deps, SEARCH_FORM, v.principal, req.id, notes, result, new URLSearchParams({ identifier: `${system}|${number}` }));
      if (patientId) return res.redirect(303, `/view/patient/${encodeURIComponent(patientId)}`);
      if (isProblem(result) && result.status === 404) {
        return page(res, 404, renderSearchPage({ shell: searchShell, error: 'not-found', demoPatients: demo ? DEMO_PATIENTS : undefined }));
      }
      problemPage(res, result as Problem);
    }),
  );

  router.get(
    '/patient/:id',
    wrap(async (req, res) => {
      const v = locals(res);
      const notes: AuditNotes = {};
      const ctx = deps.routeContext(req.log, v.principal, notes);
      const decided = await decideRequest(SUMMARY_PAGE.access, v.principal!, viewRequest(req, { id: pathParam(req) }), ctx);
      let result: HandlerResult;
      if (isProblem(decided)) result = decided;
      else {
        const document = await summaryDocument(decided, v.lang, ctx, { sources: deps.summarySources, version: deps.version });
        result = isProblem(document) ? document : { status: 200, resource: document };
      }
      // Audited before any byte of the page leaves, as on the API; a failed audit write fails the page.
      await audit(deps, SUMMARY_PAGE, v.principal, req.id, notes, result);
      if (isProblem(result)) return problemPage(res, result);
      if (!('resource' in result) || result.resource.resourceType !== 'Bundle') return errorPage(res, 500);
      const sort = isProblemSort(req.query.sort) ? req.query.sort : undefined;
      page(
        res,
        200,
        renderPatientPage({
          bundle: result.resource,
          lang: v.lang,
          vocabulary: summaryVocabulary,
          sort,
          now: now(),
          path: `/view/patient/${encodeURIComponent(pathParam(req))}`,
          shell: shell(res),
        }),
      );
    }),
  );

  // The prescription form on the search page is a GET with ?id=: send the browser to the page itself.
  router.get('/prescription', (req, res) => {
    const id = typeof req.query.id === 'string' ? req.query.id.trim() : '';
    if (!FHIR_ID.test(id)) return errorPage(res, 404, locals(res).lang === 'nb' ? 'Ugyldig resept-ID.' : 'Not a valid prescription id.');
    res.redirect(303, `/view/prescription/${encodeURIComponent(id)}`);
  });

  router.get(
    '/prescription/:id',
    wrap(async (req, res) => {
      const v = locals(res);
      const id = pathParam(req);
      const notes: AuditNotes = {};
      const ctx = deps.routeContext(req.log, v.principal, notes);
      const decided = await decideRequest(PRESCRIPTION_PAGE.access, v.principal!, viewRequest(req, { id }), ctx);
      const result: HandlerResult = isProblem(decided) ? decided : { status: 200, body: '', contentType: 'text/html' };
      const row = isProblem(decided) ? undefined : decided.loaded;
      await audit(deps, PRESCRIPTION_PAGE, v.principal, req.id, notes, result);
      if (isProblem(result)) return problemPage(res, result);
      if (!row?.resource) return errorPage(res, 404);
      page(
        res,
        200,
        renderPrescriptionPage({
          resource: row.resource,
          facts: row.facts,
          lang: v.lang,
          vocabulary: summaryVocabulary,
          now: now(),
          path: `/view/prescription/${encodeURIComponent(id)}`,
          shell: shell(res),
        }),
      );
    }),
  );

  router.use((_req, res) => errorPage(res, 404));

  // Failures render as pages without internals; a store that cannot be reached is a 503 to retry.
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    // Body-parser refusals (too large, too many fields, bad encoding) keep their 4xx; the rest is ours.
    const given = (err as { status?: unknown } | undefined)?.status;
    // A form abandoned mid-upload is asked about first: its ECONNABORTED would otherwise read as a store outage.
    const aborted = isClientAbort(err);
    const status = aborted ? 400 : isStoreUnreachable(err) ? 503 : typeof given === 'number' && given >= 400 && given < 500 ? given : 500;
    if (aborted) req.log.info({ method: req.method, status, ...abortDetails(err) }, 'request aborted by the client');
    else if (status >= 500) req.log.error({ err: err instanceof Error ? err.message : String(err) }, 'view page failed');
    if (res.headersSent) return res.end();
    if (!res.locals.view) res.locals.view = { lang: 'nb', csrf: '', secure: false, cookies: new Map() } satisfies ViewLocals;
    errorPage(res, status);
  });

  function problemPage(res: Response, p: Problem): void {
    const lang = locals(res).lang;
    const messages: Record<number, string> = {
      403: lang === 'nb' ? 'Du har ikke tilgang til disse opplysningene.' : 'You do not have access to this information.',
      404: lang === 'nb' ? 'Fant ikke det du lette etter.' : 'What you asked for was not found.',
    };
    const detail = p.issues.map((i) => i.diagnostics).filter(Boolean).join(' ');
    errorPage(res, p.status, [messages[p.status], detail].filter(Boolean).join(' '));
  }

  return router;
}

const pathParam = (req: Request, name = 'id'): string => {
  const v = req.params[name];
  return typeof v === 'string' ? v : '';
};

/** The other language's link for pages whose URL carries nothing else. */
function langHref(req: Request, res: Response): string {
  const other = locals(res).lang === 'nb' ? 'en' : 'nb';
  const next = safeNext(req.query.next);
  return `${req.baseUrl}${req.path}?lang=${other}${next ? `&next=${encodeURIComponent(next)}` : ''}`;
}

/** The page request as the FHIR layer's request type, for the shared patient locators and decision. */
function viewRequest(req: Request, input: { id?: string; body?: URLSearchParams }): FhirRequest {
  return {
    method: req.method,
    params: input.id !== undefined ? { id: input.id } : {},
    query: new URLSearchParams(),
    body: input.body,
    bodyKind: input.body ? 'form' : undefined,
    headers: req.headers,
    baseUrl: '',
    lang: 'nb',
    requestId: req.id,
  };
}

function audit(
  deps: ViewDeps,
  route: AuditedRoute,
  principal: Principal | undefined,
  requestId: string,
  notes: AuditNotes,
  result: HandlerResult,
  query: URLSearchParams = new URLSearchParams(),
): Promise<void> {
  return auditCall({ db: deps.db, config: deps.config, route, principal, request: { requestId, query }, requestId, notes, outcome: outcomeOf(result) });
}

/** Express 5 forwards rejected promises to the error handler; this only narrows the handler type. */
const wrap =
  (fn: (req: Request, res: Response, next: NextFunction) => Promise<void>): RequestHandler =>
  (req, res, next) =>
    fn(req, res, next);

const DEMO_CLINICIANS: readonly DemoClinician[] = DEMO_HPR.map((p) => {
  const category = p.authorizations[0]?.category.display;
  const where = p.workplaces[0]?.name;
  return {
    hpr: p.hpr,
    name: [...p.given, p.family].join(' '),
    description: [category, p.specialities[0]?.display, where].filter(Boolean).join(', '),
  };
});

const DEMO_PATIENTS = PERSONA_LIST.map((p) => ({ id: p.id, name: [...p.given, p.family].join(' '), fnr: p.fnr, story: p.story }));
