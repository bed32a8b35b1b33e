// The clinician view under /view: server-rendered pages from the same functions the FHIR API uses (the
// $summary document from summaryDocument, the same token verifier, access rules and AuditEvent), with a
// browser session instead of a bearer header. Read top-down, a page request goes: CSP -> assets (public)
// -> form body (small, urlencoded only) -> language and CSRF cookies -> sign-in/out -> session (the
// cookie's token through auth.verify) -> rate limit -> page: scope, handler, audit, render.
import { readFileSync } from 'node:fs';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { ClinicianPrincipal, Principal } from '../../auth/principal.ts';
import type { AuthSetup } from '../../auth/setup.ts';
import type { Config } from '../../config.ts';
import { PERSONA_LIST } from '../../demo/personas.ts';
import { OID, parsePersonNumber } from '../../fhir/identifiers.ts';
import { isProblem, notFound, type Problem } from '../../fhir/outcomes.ts';
import type { Logger } from '../../log.ts';
import { DEMO_HPR } from '../../registries/hpr.ts';
import type { SummarySource } from '../../sources/source.ts';
import { isStoreUnreachable, type Db } from '../../store/db.ts';
import { SEARCHABLE_TYPES } from '../../summary/sections.ts';
import type { ShellContext } from '../../view/layout.ts';
import { renderErrorPage, renderSearchPage, renderSignInPage, type DemoClinician } from '../../view/pages.ts';
import { renderPatientPage } from '../../view/patient-page.ts';
import { renderPrescriptionPage } from '../../view/prescription-page.ts';
import { isProblemSort } from '../../view/summary-rows.ts';
import { isLang, type Lang } from '../../view/text.ts';
import { auditCall, type AuditedRoute } from '../auth.ts';
import { decideRequest } from '../decide.ts';
import { FHIR_ID, locator, patientByPersonNumber, patientFromPath, rowPatient, type StoredPatient } from '../locate.ts';
import { SUMMARY_OPERATION, summaryDocument } from '../handlers/summary.ts';
import type { AuditNotes, FhirRequest, Found, HandlerResult, ProtectedRoute, RouteContext, RouteDef } from '../types.ts';
import { findEuPrescription, type EuPrescriptionRow } from './prescriptions.ts';
import {
  clearCookie,
  CSRF_COOKIE,
  csrfFromCookie,
  csrfMatches,
  LANG_COOKIE,
  newCsrfToken,
  parseCookies,
  safeNext,
  sameOriginFetch,
  serializeCookie,
  SESSION_COOKIE,
  SESSION_TTL_SEC,
  sessionToken,
} from './session.ts';
import { summaryVocabulary } from './vocabulary.ts';

/** The view's own policy: its stylesheet and script from this origin, nothing inline, forms only to itself. */
export const VIEW_CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** What a demo clinician's session token may do: read the patient and every summary section, and EU prescriptions. */
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
  const errorPage = (res: Response, status: number, message?: string): void =>
    page(res, status, renderErrorPage({ shell: { ...shell(res), otherLanguageHref: undefined }, status, message }));

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

  // Sign-in exists in demo mode only; in production clinicians come with a HelseID session (not built yet).
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
      });
      const { secure } = locals(res);
      res.append('Set-Cookie', serializeCookie(SESSION_COOKIE, token, { secure, maxAgeSec: SESSION_TTL_SEC }));
      // A new session gets a new CSRF token, so one fixed before sign-in cannot be reused after it.
      res.append('Set-Cookie', serializeCookie(CSRF_COOKIE, newCsrfToken(), { secure }));
      res.redirect(303, safeNext(body.next) ?? '/view/');
    }),
  );

  router.post('/signout', (req, res) => {
    if (!checkForm(req, res)) return;
    const { secure } = locals(res);
    res.append('Set-Cookie', clearCookie(SESSION_COOKIE, secure));
    res.append('Set-Cookie', serializeCookie(CSRF_COOKIE, newCsrfToken(), { secure }));
    res.redirect(303, demo ? '/view/signin' : '/view/');
  });

  // Every other page needs a session: the cookie's token, verified exactly as a bearer token on the API.
  router.use(
    wrap(async (req, res, next) => {
      const token = sessionToken(locals(res).cookies);
      const result = token ? await deps.auth.verify(`Bearer ${token}`, (reason) => req.log.info({ reason }, 'view session refused')) : undefined;
      if (result && isProblem(result) && result.status === 503) return errorPage(res, 503);
      if (!result || isProblem(result)) {
        if (token) res.append('Set-Cookie', clearCookie(SESSION_COOKIE, locals(res).secure));
        if (demo) {
          const next = req.method === 'GET' ? safeNext(req.baseUrl + req.path) : undefined;
          return res.redirect(303, `/view/signin${next ? `?next=${encodeURIComponent(next)}` : ''}`);
        }
        res.setHeader('WWW-Authenticate', 'Bearer realm="helsebro"');
        const lang = locals(res).lang;
        return errorPage(
          res,
          401,
          lang === 'nb'
            ? 'Klinikere logger inn med HelseID. Innlogging i nettleseren er ikke en del av denne versjonen av Helsebro; bruk FHIR-API-et med et HelseID-token.'
            : 'Clinicians sign in with HelseID. Browser sign-in is not part of this version of Helsebro; use the FHIR API with a HelseID token.',
        );
      }
      if (result.kind !== 'clinician') {
        return errorPage(res, 403, locals(res).lang === 'nb' ? 'Visningen er for helsepersonell.' : 'The view is for health personnel.');
      }
      locals(res).principal = result;
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
    const status = isStoreUnreachable(err) ? 503 : typeof given === 'number' && given >= 400 && given < 500 ? given : 500;
    if (status >= 500) req.log.error({ err: err instanceof Error ? err.message : String(err) }, 'view page failed');
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
  return auditCall({ db: deps.db, config: deps.config, route, principal, request: { requestId, query }, requestId, notes, result });
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
