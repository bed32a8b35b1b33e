// A browser-like HTTP client for the view without a browser: a cookie jar, forms posted with the page's
// CSRF token, redirects not followed (so tests see each 303).
export interface ViewClient {
  cookies: Map<string, string>;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  post(path: string, form: Record<string, string>, headers?: Record<string, string>): Promise<Response>;
  /** The CSRF token the last page carried in its forms. */
  csrf(): string | undefined;
  signIn(hpr?: string): Promise<Response>;
}

export function viewClient(baseUrl: string): ViewClient {
  const cookies = new Map<string, string>();
  let lastCsrf: string | undefined;
  const remember = async (res: Response): Promise<Response> => {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (attrs.some((a) => a.trim().toLowerCase() === 'max-age=0')) cookies.delete(name);
      else cookies.set(name, value);
    }
    if ((res.headers.get('content-type') ?? '').startsWith('text/html')) {
      const body = await res.clone().text();
      lastCsrf = /name="csrf" value="([^"]+)"/.exec(body)?.[1] ?? lastCsrf;
    }
    return res;
  };
  const cookieHeader = (): string => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const client: ViewClient = {
    cookies,
    get: async (path, headers = {}) =>
      remember(await fetch(`${baseUrl}${path}`, { redirect: 'manual', headers: { cookie: cookieHeader(), ...headers } })),
    post: async (path, form, headers = {}) =>
      remember(
        await fetch(`${baseUrl}${path}`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body: new URLSearchParams(form).toString(),
        }),
      ),
    csrf: () => lastCsrf,
    async signIn(hpr = '9144889') {
      await client.get('/view/signin');
      return client.post('/view/signin', { hpr, csrf: lastCsrf ?? '' });
    },
  };
  return client;
}
