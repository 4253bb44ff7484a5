/**
 * The dashboard's routes (mounted by http-api.ts): the login form, the page, its live view
 * (server-sent events: the whole view again whenever it changed, looked at every
 * `liveIntervalMs`), and approving or rejecting a plan. Without a session a page redirects to
 * /login and an API call is 401. Every POST must come from this origin (when the browser says
 * where from) and, once logged in, carry the session's CSRF token in `x-csrf-token`.
 */
import { randomBytes } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { csrfMatches, SESSION_HOURS, type Session, type WebAuth } from './auth.ts';
import type { DashboardView } from './model.ts';
import { dashboardPage, loginPage } from './page.ts';

export const SESSION_COOKIE = 'lifeboat_session';

export interface DashboardOptions {
  auth: WebAuth;
  view(): DashboardView;
  /** A person approved a plan: the daemon runs it (before its next round). */
  approve(runId: string, by: string): void;
  reject(runId: string, by: string): void;
  fleetName: string;
  log?: (line: string) => void;
  liveIntervalMs?: number;
}

export function sessionOf(c: Context, o: DashboardOptions): Session | undefined {
  return o.auth.session(getCookie(c, SESSION_COOKIE));
}

function addressOf(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Every response of the dashboard: nothing from elsewhere, no framing, no sniffing. */
function securityHeaders(c: Context, nonce?: string): void {
  c.header('content-security-policy', [
    "default-src 'none'", `script-src ${nonce ? `'nonce-${nonce}'` : "'none'"}`, `style-src ${nonce ? `'nonce-${nonce}'` : "'none'"}`,
    "connect-src 'self'", "img-src 'self' data:", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
  ].join('; '));
  c.header('x-content-type-options', 'nosniff');
  c.header('referrer-policy', 'same-origin');
  c.header('cache-control', 'no-store');
}

export function dashboardRoutes(o: DashboardOptions, secure: boolean): Hono<{ Variables: { session: Session } }> {
  const app = new Hono<{ Variables: { session: Session } }>();
  const interval = o.liveIntervalMs ?? 500;

  // A form or a script on another site cannot post here with the user's cookie.
  app.use('*', async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const origin = c.req.header('origin');
      if (origin && origin !== new URL(c.req.url).origin) return c.json({ error: 'cross-origin request refused' }, 403);
    }
    await next();
  });

  // Browsers ask for it on every first visit: an answer with no icon, not a 404 in their console.
  app.get('/favicon.ico', (c) => c.body(null, 204, { 'cache-control': 'max-age=86400' }));

  app.get('/login', (c) => {
    if (sessionOf(c, o)) return c.redirect('/', 302);
    const nonce = randomBytes(16).toString('base64');
    securityHeaders(c, nonce);
    return c.html(loginPage({ fleet: o.fleetName, nonce }));
  });

  app.post('/login', bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.text('too large\n', 413, { connection: 'close' }) }), async (c) => {
    const form = await c.req.parseBody();
    const user = typeof form['user'] === 'string' ? form['user'] : '';
    const password = typeof form['password'] === 'string' ? form['password'] : '';
    const address = addressOf(c);
    const nonce = randomBytes(16).toString('base64');
    securityHeaders(c, nonce);
    const wait = o.auth.waitMs(user, address);
    if (wait > 0) {
      c.header('retry-after', String(Math.ceil(wait / 1000)));
      o.log?.(`dashboard: login for ${JSON.stringify(user)} from ${address} slowed down (${Math.ceil(wait / 1000)} s)`);
      return c.html(loginPage({ fleet: o.fleetName, nonce, error: `Too many wrong passwords: try again in ${Math.ceil(wait / 1000)} s.`, user }), 429);
    }
    const done = await o.auth.login(user, password, address);
    if (!done) {
      o.log?.(`dashboard: wrong name or password for ${JSON.stringify(user)} from ${address}`);
      return c.html(loginPage({ fleet: o.fleetName, nonce, error: 'Wrong name or password.', user }), 401);
    }
    setCookie(c, SESSION_COOKIE, done.token, { httpOnly: true, sameSite: 'Strict', secure, path: '/', maxAge: SESSION_HOURS * 3600 });
    o.log?.(`dashboard: ${user} logged in from ${address}`);
    return c.redirect('/', 303);
  });

  app.get('/healthz', (c) => c.text('ok\n'));

  // Everything below needs a session.
  app.use('*', async (c, next) => {
    const session = sessionOf(c, o);
    const path = new URL(c.req.url).pathname;
    if (!session) {
      securityHeaders(c);
      return path.startsWith('/api/') ? c.json({ error: 'log in first' }, 401) : c.redirect('/login', 302);
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && !csrfMatches(session, c.req.header('x-csrf-token'))) {
      return c.json({ error: 'missing or wrong CSRF token (x-csrf-token)' }, 403);
    }
    c.set('session', session);
    await next();
  });

  app.get('/', (c) => {
    const nonce = randomBytes(16).toString('base64');
    securityHeaders(c, nonce);
    const session = c.get('session');
    return c.html(dashboardPage({ fleet: o.fleetName, nonce, csrf: session.csrf, user: session.user }));
  });

  app.get('/api/view', (c) => {
    securityHeaders(c);
    return c.json(o.view());
  });

  app.get('/api/live', (c) => {
    securityHeaders(c);
    const token = getCookie(c, SESSION_COOKIE);
    return streamSSE(c, async (stream) => {
      let closed = false;
      stream.onAbort(() => { closed = true; });
      let last = '';
      let quiet = 0;
      while (!closed) {
        // A session that ended (logout elsewhere, expired) ends its stream too.
        if (!o.auth.session(token)) {
          await stream.writeSSE({ event: 'logout', data: '{}' });
          break;
        }
        const { at: _at, ...view } = o.view();
        const text = JSON.stringify(view);
        if (text !== last) {
          await stream.writeSSE({ event: 'view', data: JSON.stringify({ at: new Date().toISOString(), ...view }) });
          last = text;
          quiet = 0;
        } else if (++quiet * interval >= 15_000) {
          // A comment now and then keeps proxies from closing a quiet stream.
          await stream.write(': still here\n\n');
          quiet = 0;
        }
        await stream.sleep(interval);
      }
    });
  });

  const decide = (verb: 'approve' | 'reject') => (c: Context<{ Variables: { session: Session } }>) => {
    const id = c.req.param('id') ?? '';
    const by = c.get('session').user;
    try {
      if (verb === 'approve') o.approve(id, by);
      else o.reject(id, by);
    } catch (error) {
      return c.json({ error: (error as Error).message }, 409);
    }
    o.log?.(`dashboard: ${by} ${verb === 'approve' ? 'approved' : 'rejected'} run ${id}`);
    return c.json({ ok: true, run: id, [verb === 'approve' ? 'approvedBy' : 'rejectedBy']: by });
  };
  app.post('/api/runs/:id/approve', decide('approve'));
  app.post('/api/runs/:id/reject', decide('reject'));

  app.post('/logout', (c) => {
    o.auth.logout(getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure, httpOnly: true, sameSite: 'Strict' });
    return c.json({ ok: true });
  });

  app.all('*', (c) => (new URL(c.req.url).pathname.startsWith('/api/') ? c.json({ error: 'not found' }, 404) : c.text('not found\n', 404)));
  return app;
}
