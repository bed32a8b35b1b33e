// A stored view session around a demo token, as the demo sign-in makes one, for tests that need a
// session with particular claims (a citizen, narrow scopes) or a token the view must refuse.
import { DEMO_VIEW_AUDIENCE, type DemoTokenOptions } from '../../../src/auth/demo-issuer.ts';
import { createSession } from '../../../src/http/view/session-store.ts';
import { SESSION_COOKIE } from '../../../src/http/view/session.ts';
import type { Db } from '../../../src/store/db.ts';
import type { TestServer } from '../../support/server.ts';

/** The Cookie header of a new session holding a demo token (the view's audience unless opts say otherwise). */
export async function sessionCookie(srv: TestServer, db: Db, opts: Partial<DemoTokenOptions> = {}): Promise<string> {
  const token = await srv.token({ audience: DEMO_VIEW_AUDIENCE, ...opts });
  const { id } = await createSession(db, { accessToken: token, tokenExpiresAt: Math.floor(Date.now() / 1000) + 600 }, new Date(), srv.config.viewSession);
  return `${SESSION_COOKIE}=${id}`;
}
