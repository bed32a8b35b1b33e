// The clinician view's cookie, CSRF and redirect helpers, with malformed and hostile input.
import { describe, expect, it } from 'vitest';
import {
  clearCookie,
  cookieId,
  CSRF_COOKIE,
  csrfFromCookie,
  csrfMatches,
  newCsrfToken,
  parseCookies,
  safeNext,
  sameOriginFetch,
  serializeCookie,
  LOGIN_COOKIE,
  SESSION_COOKIE,
} from '../../src/http/view/session.ts';

describe('cookies', () => {
  it('parses a Cookie header, first occurrence winning, quoted and percent-encoded values decoded', () => {
    const c = parseCookies('a=1; b="two"; a=3; c=x%20y; =nameless; novalue; d=%E0%A4%A');
    expect(c.get('a')).toBe('1');
    expect(c.get('b')).toBe('two');
    expect(c.get('c')).toBe('x y');
    expect(c.has('d')).toBe(false);
    expect(c.has('')).toBe(false);
    expect(c.size).toBe(3);
  });

  it('ignores absurdly large headers rather than parsing them', () => {
    expect(parseCookies(`a=${'x'.repeat(40_000)}`).size).toBe(0);
    expect(parseCookies(undefined).size).toBe(0);
  });

  it('writes HttpOnly, SameSite=Strict cookies scoped to /view, Secure only when asked', () => {
    expect(serializeCookie(SESSION_COOKIE, 'tok en', { secure: false, maxAgeSec: 1800 })).toBe(
      'helsebro_view_session=tok%20en; Path=/view; HttpOnly; SameSite=Strict; Max-Age=1800',
    );
    expect(serializeCookie(CSRF_COOKIE, 'v', { secure: true })).toBe('helsebro_view_csrf=v; Path=/view; HttpOnly; SameSite=Strict; Secure');
    expect(clearCookie(SESSION_COOKIE, true)).toBe('helsebro_view_session=; Path=/view; HttpOnly; SameSite=Strict; Max-Age=0; Secure');
  });

  it('takes only opaque-id-shaped session and sign-in values to the store, never a token', () => {
    const id = 'A'.repeat(42) + '_';
    expect(cookieId(parseCookies(`${SESSION_COOKIE}=${id}`), SESSION_COOKIE)).toBe(id);
    expect(cookieId(parseCookies(`${LOGIN_COOKIE}=${id}`), LOGIN_COOKIE)).toBe(id);
    expect(cookieId(parseCookies(`${LOGIN_COOKIE}=${id}`), SESSION_COOKIE)).toBeUndefined();
    expect(cookieId(parseCookies(`${SESSION_COOKIE}=aaa.bbb.ccc`), SESSION_COOKIE)).toBeUndefined();
    expect(cookieId(parseCookies(`${SESSION_COOKIE}=${id}A`), SESSION_COOKIE)).toBeUndefined();
    expect(cookieId(parseCookies(`${SESSION_COOKIE}=a%0Ab`), SESSION_COOKIE)).toBeUndefined();
    expect(cookieId(parseCookies(`${SESSION_COOKIE}=<script>`), SESSION_COOKIE)).toBeUndefined();
    expect(cookieId(parseCookies('other=1'), SESSION_COOKIE)).toBeUndefined();
  });

  it('writes the sign-in cookie SameSite=Lax (the provider redirects back from another site)', () => {
    expect(serializeCookie(LOGIN_COOKIE, 'v', { secure: true, maxAgeSec: 600, sameSite: 'Lax' })).toBe(
      'helsebro_view_login=v; Path=/view; HttpOnly; SameSite=Lax; Max-Age=600; Secure',
    );
  });
});

describe('CSRF', () => {
  it('makes unpredictable 256-bit tokens', () => {
    const a = newCsrfToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newCsrfToken()).not.toBe(a);
  });

  it('accepts only the exact token of the cookie', () => {
    const t = newCsrfToken();
    expect(csrfMatches(t, t)).toBe(true);
    expect(csrfMatches(t, newCsrfToken())).toBe(false);
    expect(csrfMatches(t, t.slice(1))).toBe(false);
    expect(csrfMatches(t, [t])).toBe(false);
    expect(csrfMatches(undefined, t)).toBe(false);
    expect(csrfMatches(t, undefined)).toBe(false);
  });

  it('reads only well-formed CSRF cookies', () => {
    const t = newCsrfToken();
    expect(csrfFromCookie(parseCookies(`${CSRF_COOKIE}=${t}`))).toBe(t);
    expect(csrfFromCookie(parseCookies(`${CSRF_COOKIE}=short`))).toBeUndefined();
  });

  it('refuses forms the browser says came from elsewhere', () => {
    expect(sameOriginFetch('same-origin')).toBe(true);
    expect(sameOriginFetch(undefined)).toBe(true);
    expect(sameOriginFetch('cross-site')).toBe(false);
    expect(sameOriginFetch('same-site')).toBe(false);
    expect(sameOriginFetch('none')).toBe(false);
  });
});

describe('where sign-in may lead', () => {
  it.each(['/view/', '/view/patient/ms', '/view/prescription/3f2c-9a.1'])('allows the view page %s', (p) => {
    expect(safeNext(p)).toBe(p);
  });

  it.each(['//evil.example/', 'https://evil.example/view/', '/view/../fhir/Patient', '/view/patient/ms?x=1', '/view/patient/', '/fhir/metadata', '/view/patient/a/b', '\\\\evil', 42])(
    'refuses %s',
    (p) => {
      expect(safeNext(p)).toBeUndefined();
    },
  );
});
