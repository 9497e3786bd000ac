import { generateTestKey } from '../../testkit/keys';
import { useTwoLanes } from '../../testkit/fast-lane';

/**
 * Forward-auth on node:http in front of express (src/http/fast-authz.ts): every answer the same as the app's routes
 * give (status, body, every header but the per-answer ones), the same request log line, and what it leaves to the
 * app only the targets express reads differently (an escaped path).
 */
describe('the fast forward-auth', () => {
  // CORS on: forward-auth comes before it in the app, so its answers carry no CORS header on either lane.
  const fixture = useTwoLanes({ AUTHZ_COOKIE_NAME: '__session', CORS_ORIGINS: 'https://app.example.com' });

  async function same(path: string, init: RequestInit, status: number): Promise<void> {
    const { fast, app } = await fixture.lanes.both(path, init);
    expect([path, init.method ?? 'GET', fast.status]).toEqual([path, init.method ?? 'GET', status]);
    expect(fast).toEqual(app);
  }

  it('a valid token at /v1/authz, under it, with any method, by cookie: the app\'s answers, all taken by the fast lane', async () => {
    const token = await fixture.fake.firebaseIdToken({
      sub: 'fa-user',
      user_id: 'fa-user',
      email: 'ada@example.com',
      email_verified: true,
      firebase: { identities: {}, sign_in_provider: 'google.com' },
    });
    const bearer = { authorization: `Bearer ${token}` };
    await same('/v1/authz', { headers: bearer }, 200);
    await same('/v1/authz/', { headers: bearer }, 200);
    await same('/v1/authz/api/orders/7?page=2', { headers: { ...bearer, 'x-forwarded-method': 'PUT' } }, 200);
    await same('/v1/authz//double', { headers: bearer }, 200);
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD']) await same('/v1/authz/api', { method, headers: bearer }, 200);
    await same('/v1/authz/upload', { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: '{not json' }, 200);
    // A forwarded preflight with an allowed Origin: forward-auth's verdict, not CORS's 204.
    await same('/v1/authz', { method: 'OPTIONS', headers: { ...bearer, origin: 'https://app.example.com', 'access-control-request-method': 'GET' } }, 200);
    await same('/v1/authz', { headers: { cookie: `theme=dark; __session=${token}` } }, 200);
    const { fast } = await fixture.lanes.both('/v1/authz', { headers: bearer });
    expect(fast.headers['x-auth-uid']).toBe('fa-user');
    expect(fast.headers['access-control-allow-origin']).toBeUndefined();
    expect(fast.headers['content-security-policy']).toBeDefined();
    expect(fixture.lanes.taken).toEqual({ fast: 12, app: 0 });
  });

  it('rules from the query at /v1/authz and /v1/authz/ (never under a deeper path): the same 200s and 403s', async () => {
    const plain = await fixture.fake.firebaseIdToken({ sub: 'fa-plain', email: 'bob@example.org', email_verified: true });
    const admin = await fixture.fake.firebaseIdToken({ sub: 'fa-admin', admin: true, email: 'eve@example.com', email_verified: true });
    const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    await same('/v1/authz?claim=admin', as(plain), 403);
    await same('/v1/authz?claim=admin', as(admin), 200);
    await same('/v1/authz/?claim=admin&claim=other', as(admin), 403);
    await same('/v1/authz?email_domain=example.com', as(plain), 403);
    await same('/v1/authz?email_domain=example.org&email_domain=example.com', as(plain), 200);
    // Under a deeper path the query is the client's own: it names no rule.
    await same('/v1/authz/api?claim=admin', as(plain), 200);
    await same('/v1/authz?claim=admin#fragment', as(admin), 200);
    expect(fixture.lanes.taken).toEqual({ fast: 7, app: 0 });
  });

  it('refusals: none, a malformed one, a forged one, an expired one, a bad cookie: the same 401s and challenges', async () => {
    const forged = await fixture.fake.firebaseIdToken({ sub: 'evil' }, { key: { ...generateTestKey(), kid: fixture.fake.securetoken.keys[0]!.kid } });
    const past = Math.floor(Date.now() / 1000) - 7200;
    const expired = await fixture.fake.firebaseIdToken({ iat: past, exp: past + 3600, auth_time: past - 10 });
    await same('/v1/authz', {}, 401);
    await same('/v1/authz', { headers: { authorization: 'Bearer not a token' } }, 401);
    await same('/v1/authz', { headers: { authorization: 'Basic Zm9vOmJhcg==' } }, 401);
    await same('/v1/authz/x', { headers: { authorization: `Bearer ${forged}` } }, 401);
    await same('/v1/authz', { headers: { authorization: `Bearer ${expired}` } }, 401);
    await same('/v1/authz', { headers: { cookie: '__session=not-a-token' } }, 401);
    const { fast } = await fixture.lanes.both('/v1/authz', { headers: { authorization: `Bearer ${forged}` } });
    expect(fast.headers['www-authenticate']).toMatch(/^Bearer realm="firebridge", error="invalid_token"/);
    expect(fixture.lanes.taken).toEqual({ fast: 7, app: 0 });
  });

  it('leaves to the app what express reads its own way: an escaped path, a look-alike path', async () => {
    const token = await fixture.fake.firebaseIdToken({ sub: 'fa-esc' });
    const bearer = { headers: { authorization: `Bearer ${token}` } };
    await same('/v1/authz/%zz', bearer, 400);
    await same('/v1/authz/a%20b', bearer, 200);
    await same('/v1/authzx', bearer, 404);
    await same('/v1/Authz', bearer, 404);
    expect(fixture.lanes.taken).toEqual({ fast: 0, app: 4 });
  });

  it('the request log line: the matched pattern, the original method and path, as the app logs them; no token', async () => {
    const token = await fixture.fake.firebaseIdToken({ sub: 'fa-log' });
    const linesFor = async (which: 'fast' | 'app', id: string) => {
      const before = fixture.bridge.logs.lines.length;
      await fixture.lanes.send(which, '/v1/authz/orders/7?secret=x', { headers: { authorization: `Bearer ${token}`, 'x-request-id': id } });
      await new Promise((resolve) => setTimeout(resolve, 20));
      return fixture.bridge.logs.lines.slice(before);
    };
    const fastLines = await linesFor('fast', 'fa-fast');
    const appLines = await linesFor('app', 'fa-app');
    const requestLine = (lines: string[]) => {
      const { reqId: _reqId, ms: _ms, time: _time, ...rest } = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request') ?? {};
      return rest;
    };
    expect(requestLine(fastLines)).toMatchObject({ method: 'GET', path: '/v1/authz/{*rest}', originalMethod: 'GET', originalPath: '/orders/7', status: 200 });
    expect(requestLine(fastLines)).toEqual(requestLine(appLines));
    expect(fastLines.join('\n')).not.toContain(token.split('.')[2]);
    expect(fastLines.join('\n')).not.toContain('secret');
  });
});
