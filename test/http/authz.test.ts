import request from 'supertest';
import { FakeGoogle, type TestServiceAccount } from '../../testkit/fake-google';
import { FakeIam } from '../../testkit/fake-iam';
import { FakeIdentityToolkit } from '../../testkit/fake-identity-toolkit';
import { type TestBridge, bridgeFor } from '../../testkit/harness';
import { type IdentityToolkitFakes, startIdentityToolkitFakes } from '../../testkit/identity-toolkit-fakes';

function decodeClaims(header: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('forward-auth: /v1/authz', () => {
  let fake: FakeGoogle;
  let bridge: TestBridge;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    bridge = bridgeFor(fake);
  });
  afterAll(() => fake.close());

  it('a valid token → 200 with the X-Auth-* headers and no body', async () => {
    const token = await fake.firebaseIdToken({
      sub: 'user-1',
      email: 'ada@example.com',
      email_verified: true,
      admin: true,
      firebase: { identities: {}, sign_in_provider: 'google.com' },
    });
    const res = await request(bridge.app).get('/v1/authz').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.headers['x-auth-uid']).toBe('user-1');
    expect(res.headers['x-auth-email']).toBe('ada@example.com');
    expect(res.headers['x-auth-email-verified']).toBe('true');
    expect(res.headers['x-auth-provider']).toBe('google.com');
    expect(res.headers['x-auth-claims']).toMatch(/^[A-Za-z0-9_-]+$/);
    const claims = decodeClaims(res.headers['x-auth-claims']);
    expect(claims).toMatchObject({ sub: 'user-1', admin: true, aud: fake.projectId, email: 'ada@example.com' });
    expect(res.text).toBe('');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('any method and any path under /v1/authz/ (Traefik, Envoy): never a 405', async () => {
    const token = await fake.firebaseIdToken({ sub: 'user-2' });
    for (const method of ['get', 'post', 'put', 'patch', 'delete', 'options', 'head'] as const) {
      for (const path of ['/v1/authz', '/v1/authz/', '/v1/authz/api/orders/7', '/v1/authz/x', '/v1/authz/a/']) {
        const res = await request(bridge.app)[method](path).set('Authorization', `Bearer ${token}`);
        expect([method, path, res.status]).toEqual([method, path, 200]);
        expect(res.headers['x-auth-uid']).toBe('user-2');
      }
    }
  });

  it('a body (Envoy may forward one) is never read: not even invalid JSON or an oversized one turns into a 400/413', async () => {
    const token = await fake.firebaseIdToken({ sub: 'user-3' });
    await request(bridge.app)
      .post('/v1/authz/upload')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/json')
      .send('{not json')
      .expect(200);
    await request(bridge.app)
      .post('/v1/authz/upload')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ big: 'x'.repeat(64 * 1024) }))
      .expect(200);
  });

  it('no token → 401 with a bare challenge', async () => {
    const res = await request(bridge.app).get('/v1/authz').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="firebridge"');
    expect(res.headers['x-auth-uid']).toBeUndefined();
  });

  it('a malformed Authorization header → 401, never 400 (nginx would answer 500)', async () => {
    const valid = await fake.firebaseIdToken();
    for (const header of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer "quoted"', `Bearer \t${valid}`]) {
      const res = await request(bridge.app).get('/v1/authz').set('Authorization', header);
      expect([header, res.status]).toEqual([header, 401]);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="firebridge", error="invalid_token"/);
    }
  });

  it('a forged, expired, other-project or Google token → 401 invalid_token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const tokens = [
      `${(await fake.firebaseIdToken()).slice(0, -4)}AAAA`,
      await fake.firebaseIdToken({ exp: now - 3600, iat: now - 7200, auth_time: now - 7200 }),
      await fake.firebaseIdToken({}, { projectId: 'another-project-2' }),
      await fake.googleIdToken(),
      'a.b.c',
    ];
    for (const token of tokens) {
      const res = await request(bridge.app).get('/v1/authz').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      expect(res.headers['x-auth-uid']).toBeUndefined();
    }
  });

  it('?claim= and ?email_domain= rules: 403 when refused, 200 when met', async () => {
    const token = await fake.firebaseIdToken({ sub: 'u', email: 'ada@example.com', email_verified: true, admin: true });
    const get = (query: string) => request(bridge.app).get(`/v1/authz${query}`).set('Authorization', `Bearer ${token}`);
    await get('?claim=admin').expect(200);
    await get('?claim=admin&email_domain=example.com').expect(200);
    const staff = await get('?claim=admin&claim=staff').expect(403);
    expect(staff.body).toEqual({ error: 'access_denied', error_description: 'the token lacks a required claim' });
    expect(staff.headers['x-auth-uid']).toBeUndefined();
    await get('?email_domain=sub.example.com').expect(403);
    await get('?email_domain=other.example,example.com').expect(200);
    // Under /v1/authz/ (Envoy forwards the original path and query there) the query is the client's: never rules.
    await request(bridge.app).get('/v1/authz/search?claim=staff&email_domain=x.example').set('Authorization', `Bearer ${token}`).expect(200);
    await request(bridge.app).get('/v1/authz/search?claim=').set('Authorization', `Bearer ${token}`).expect(200);
    // /v1/authz/ with nothing after the slash is the subrequest URI too (auth_request /v1/authz/?claim=...): its rules hold.
    await request(bridge.app).get('/v1/authz/?claim=staff').set('Authorization', `Bearer ${token}`).expect(403);
    await request(bridge.app).get('/v1/authz/?claim=admin').set('Authorization', `Bearer ${token}`).expect(200);
  });

  it('a bad rule in the query is 400, never a pass', async () => {
    const token = await fake.firebaseIdToken();
    await request(bridge.app).get('/v1/authz?email_domain=b%C3%BCcher.example').set('Authorization', `Bearer ${token}`).expect(400);
    await request(bridge.app).get('/v1/authz?claim=').set('Authorization', `Bearer ${token}`).expect(400);
  });

  it('AUTHZ_REQUIRE_CLAIMS and AUTHZ_REQUIRE_EMAIL_VERIFIED apply to every request', async () => {
    const strict = bridgeFor(fake, { env: { AUTHZ_REQUIRE_CLAIMS: 'admin,staff', AUTHZ_REQUIRE_EMAIL_VERIFIED: 'true' } });
    const both = await fake.firebaseIdToken({ email: 'a@example.com', email_verified: true, admin: true, staff: 'true' });
    const oneClaim = await fake.firebaseIdToken({ email: 'a@example.com', email_verified: true, admin: true });
    const unverified = await fake.firebaseIdToken({ email: 'a@example.com', email_verified: false, admin: true, staff: true });
    await request(strict.app).get('/v1/authz').set('Authorization', `Bearer ${both}`).expect(200);
    await request(strict.app).get('/v1/authz').set('Authorization', `Bearer ${oneClaim}`).expect(403);
    const res = await request(strict.app).get('/v1/authz').set('Authorization', `Bearer ${unverified}`).expect(403);
    expect(res.body.error_description).toBe('the account has no verified email');
    // The settings hold under /v1/authz/ (Envoy) too.
    await request(strict.app).get('/v1/authz/any/path').set('Authorization', `Bearer ${oneClaim}`).expect(403);
    await request(strict.app).post('/v1/authz/any/path').set('Authorization', `Bearer ${both}`).expect(200);
  });

  it('AUTHZ_COOKIE_NAME: the token from the cookie when there is no Bearer header; the header wins', async () => {
    const withCookie = bridgeFor(fake, { env: { AUTHZ_COOKIE_NAME: '__session' } });
    const token = await fake.firebaseIdToken({ sub: 'cookie-user' });
    const other = await fake.firebaseIdToken({ sub: 'header-user' });
    const res = await request(withCookie.app).get('/v1/authz').set('Cookie', `theme=dark; __session=${token}; x=1`).expect(200);
    expect(res.headers['x-auth-uid']).toBe('cookie-user');
    await request(withCookie.app).get('/v1/authz').set('Cookie', `__session="${token}"`).expect(200);
    const both = await request(withCookie.app)
      .get('/v1/authz')
      .set('Cookie', `__session=${token}`)
      .set('Authorization', `Bearer ${other}`)
      .expect(200);
    expect(both.headers['x-auth-uid']).toBe('header-user');
    // Another scheme is no Bearer credential: the cookie decides.
    await request(withCookie.app).get('/v1/authz').set('Cookie', `__session=${token}`).set('Authorization', 'Basic dTpw').expect(200);
    await request(withCookie.app).get('/v1/authz').set('Cookie', '__session=not a token').expect(401);
    await request(withCookie.app).get('/v1/authz').set('Cookie', `session=${token}`).expect(401);
    // Without the setting, a cookie is never read.
    await request(bridge.app).get('/v1/authz').set('Cookie', `__session=${token}`).expect(401);
  });

  it('header values are always safe: a non-ASCII email is left out, non-Latin-1 claims travel base64url-encoded', async () => {
    const token = await fake.firebaseIdToken({ sub: 'u-9', email: 'j\u00fcrgen@ex\u00e4mple.com', name: 'Zo\u00eb \u{1F600}\r\nX-Evil: 1' });
    const res = await request(bridge.app).get('/v1/authz').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.headers['x-auth-email']).toBeUndefined();
    expect(res.headers['x-evil']).toBeUndefined();
    expect(res.headers['x-auth-email-verified']).toBe('false');
    expect(decodeClaims(res.headers['x-auth-claims'])).toMatchObject({ email: 'j\u00fcrgen@ex\u00e4mple.com', name: 'Zo\u00eb \u{1F600}\r\nX-Evil: 1' });
  });

  it('a uid that cannot travel in a header is refused (403), never sent mangled or empty', async () => {
    for (const sub of ['u\u00e9', 'a\r\nb', ' lead', 'trail ']) {
      const token = await fake.firebaseIdToken({ sub, user_id: sub });
      const res = await request(bridge.app).get('/v1/authz').set('Authorization', `Bearer ${token}`);
      expect([sub, res.status]).toEqual([sub, 403]);
      expect(res.headers['x-auth-uid']).toBeUndefined();
    }
  });

  it('the request log names the original method and path (never its query), and no token', async () => {
    const logged = bridgeFor(fake);
    const token = await fake.firebaseIdToken({ sub: 'log-user' });
    await request(logged.app)
      .get('/v1/authz')
      .set('Authorization', `Bearer ${token}`)
      .set('X-Original-Method', 'DELETE')
      .set('X-Original-URI', `/api/items/4?access_token=${token}`)
      .expect(200);
    await request(logged.app)
      .get('/v1/authz')
      .set('X-Forwarded-Method', 'PATCH')
      .set('X-Forwarded-Uri', '/traefik/path?secret=1')
      .expect(401);
    await request(logged.app).put(`/v1/authz/envoy/path?t=${token}`).set('Authorization', `Bearer ${token}`).expect(200);
    const lines = logged.logs.entries().filter((entry) => entry.msg === 'request');
    expect(lines.map((line) => [line.method, line.path, line.originalMethod, line.originalPath, line.status])).toEqual([
      ['GET', '/v1/authz', 'DELETE', '/api/items/4', 200],
      ['GET', '/v1/authz', 'PATCH', '/traefik/path', 401],
      ['PUT', '/v1/authz/{*rest}', 'PUT', '/envoy/path', 200],
    ]);
    expect(logged.logs.text).not.toContain(token);
    expect(logged.logs.text).not.toContain(token.split('.')[2]);
    expect(logged.logs.text).not.toContain('secret=1');
  });
});

describe('forward-auth: the verified-token cache and the revocation check apply', () => {
  let fake: FakeGoogle;
  let iam: FakeIam;
  let toolkit: FakeIdentityToolkit;
  let account: TestServiceAccount;
  let fakes: IdentityToolkitFakes;
  beforeAll(async () => {
    fakes = await startIdentityToolkitFakes();
    ({ fake, iam, toolkit, account } = fakes);
  });
  afterAll(() => fakes.close());

  it('a repeated token is answered from the verified-token cache (peek), as at /v1/me: no more verify calls', async () => {
    const { app, deps } = bridgeFor(fake, { account });
    const verify = jest.spyOn(deps.firebaseVerifier, 'verify');
    const token = await fake.firebaseIdToken({ sub: 'cached' });
    // Warm-up as /v1/me needs it (the key set and the cache fill), then every answer is a synchronous hit.
    for (let i = 0; i < 2; i++) await request(app).get('/v1/authz').set('Authorization', `Bearer ${token}`).expect(200);
    verify.mockClear();
    for (let i = 0; i < 5; i++) await request(app).get('/v1/authz').set('Authorization', `Bearer ${token}`).expect(200);
    expect(verify).not.toHaveBeenCalled();
  });

  it('CHECK_REVOKED: a disabled user is refused at /v1/authz as at /v1/me', async () => {
    const { app } = bridgeFor(fake, {
      account,
      env: { CHECK_REVOKED: 'true', REVOCATION_CACHE_SECONDS: '0', IDENTITY_TOOLKIT_URL: toolkit.url, GOOGLE_TOKEN_URL: iam.tokenUrl },
    });
    toolkit.users.set('rev-user', {});
    const token = await fake.firebaseIdToken({ sub: 'rev-user', user_id: 'rev-user' });
    await request(app).get('/v1/authz').set('Authorization', `Bearer ${token}`).expect(200);
    toolkit.users.set('rev-user', { disabled: true });
    const res = await request(app).get('/v1/authz').set('Authorization', `Bearer ${token}`).expect(401);
    expect(res.headers['www-authenticate']).toMatch(/error_description="the user is disabled"/);
    expect(res.headers['x-auth-uid']).toBeUndefined();
  });
});
