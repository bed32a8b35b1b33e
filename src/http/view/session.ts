// The browser side of the clinician view's security: cookies (session, sign-in, CSRF, language), parsed
// and written by hand because there are four of them. The session cookie holds only an opaque id of a
// server-side session (session-store.ts), never a token; it is HttpOnly (no script reads it),
// SameSite=Strict (no other site's page sends it) and Secure whenever the service is reached over https.
// The sign-in cookie binds a HelseID sign-in to the browser that started it; it is SameSite=Lax because
// the provider's redirect back is a navigation from another site, and lives only for the sign-in.
// POST forms carry a CSRF token that must equal the CSRF cookie (double submit); the browser's own
// Sec-Fetch-Site header, when sent, must also say the form came from this origin.
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'helsebro_view_session';
export const LOGIN_COOKIE = 'helsebro_view_login';
export const CSRF_COOKIE = 'helsebro_view_csrf';
export const LANG_COOKIE = 'helsebro_view_lang';
export const COOKIE_PATH = '/view';

/** How long a demo sign-in's token lasts: a clinician on call signs in again after half an hour. */
export const SESSION_TTL_SEC = 30 * 60;

const CSRF_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/** `Cookie` header -> name/value pairs; the first occurrence of a name wins, malformed pairs are skipped. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header || header.length > 32 * 1024) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (!name || out.has(name)) continue;
    try {
      out.set(name, decodeURIComponent(value));
    } catch {
      // A value that is not valid percent-encoding is not ours.
    }
  }
  return out;
}

export interface CookieOptions {
  maxAgeSec?: number | undefined;
  secure: boolean;
  /** Strict unless said otherwise; Lax only for the sign-in cookie. */
  sameSite?: 'Strict' | 'Lax';
}

export function serializeCookie(name: string, value: string, opts: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${COOKIE_PATH}`, 'HttpOnly', `SameSite=${opts.sameSite ?? 'Strict'}`];
  if (opts.maxAgeSec !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(opts.maxAgeSec))}`);
  if (opts.secure) parts.push('Secure');
  return parts.join('; ');
}

export const clearCookie = (name: string, secure: boolean): string => serializeCookie(name, '', { maxAgeSec: 0, secure });

const OPAQUE_ID = /^[A-Za-z0-9_-]{43}$/;

/** The id a session or sign-in cookie holds, if it is shaped like one (the store decides whether it is one). */
export function cookieId(cookies: Map<string, string>, name: typeof SESSION_COOKIE | typeof LOGIN_COOKIE): string | undefined {
  const v = cookies.get(name);
  return v && OPAQUE_ID.test(v) ? v : undefined;
}

export const newCsrfToken = (): string => randomBytes(32).toString('base64url');

export function csrfFromCookie(cookies: Map<string, string>): string | undefined {
  const v = cookies.get(CSRF_COOKIE);
  return v && CSRF_FORMAT.test(v) ? v : undefined;
}

/** Double submit: the form's token equals the cookie's, compared in constant time. */
export function csrfMatches(cookieToken: string | undefined, formToken: unknown): boolean {
  if (!cookieToken || typeof formToken !== 'string' || !CSRF_FORMAT.test(formToken)) return false;
  const a = Buffer.from(cookieToken);
  const b = Buffer.from(formToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Sec-Fetch-Site, when the browser sends it, must say the request came from this origin. */
export const sameOriginFetch = (secFetchSite: string | undefined): boolean =>
  secFetchSite === undefined || secFetchSite === 'same-origin';

const NEXT_PATH = /^\/view\/(?:(?:patient|prescription)\/[A-Za-z0-9\-.]{1,64})?$/;

/** Where sign-in may send the browser afterwards: only a view page of this service, never elsewhere. */
export function safeNext(value: unknown): string | undefined {
  return typeof value === 'string' && NEXT_PATH.test(value) ? value : undefined;
}
