import { generateTestKey } from '../../testkit/keys';
import { bridgeFor } from '../../testkit/harness';
import { type LaneAnswer, headersOf, twoLanes, useTwoLanes } from '../../testkit/fast-lane';

/**
 * GET /v1/me answered on node:http in front of express (src/http/fast-me.ts): the same answers as the express
 * route, answer for answer (status, body, every header but the per-answer ones), and only the plain case taken.
 */
describe('the fast GET /v1/me', () => {
  const fixture = useTwoLanes();

  const answer = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<LaneAnswer> =>
    fixture.lanes.send('fast', path, { method, headers });
  const both = (headers: Record<string, string>) => fixture.lanes.both('/v1/me', { headers });

  it('a never-seen token, then the same token again (a cache hit): the app\'s answers, taken by the fast path', async () => {
    const token = await fixture.fake.firebaseIdToken({ sub: 'fast-user', user_id: 'fast-user', email: 'ada@example.com' });
    const first = await answer('/v1/me', { authorization: `Bearer ${token}` });
    const second = await answer('/v1/me', { authorization: `Bearer ${token}` });
    const viaApp = await fixture.lanes.send('app', '/v1/me', { headers: { authorization: `Bearer ${token}` } });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ uid: 'fast-user', claims: { email: 'ada@example.com' } });
    expect(second).toEqual(first);
    expect(viaApp).toEqual(first);
    expect(fixture.lanes.taken).toEqual({ fast: 2, app: 0 });
    expect(first.headers['content-security-policy']).toBeDefined();
    expect(first.headers['cache-control']).toBe('no-store');
  });

  it('refusals: a forged signature, an expired token, another project: the same status, body and challenge', async () => {
    const forged = await fixture.fake.firebaseIdToken({ sub: 'evil' }, { key: { ...generateTestKey(), kid: fixture.fake.securetoken.keys[0]!.kid } });
    const past = Math.floor(Date.now() / 1000) - 7200;
    const expired = await fixture.fake.firebaseIdToken({ iat: past, exp: past + 3600, auth_time: past - 10 });
    const otherProject = await fixture.fake.firebaseIdToken({}, { projectId: 'another-project' });
    for (const token of [forged, expired, otherProject]) {
      const { fast: f, app: a } = await both({ authorization: `Bearer ${token}` });
      expect(f.status).toBe(401);
      expect(f).toEqual(a);
      expect(f.headers['www-authenticate']).toMatch(/^Bearer realm="firebridge", error="invalid_token"/);
    }
    expect(fixture.lanes.taken).toEqual({ fast: 3, app: 0 });
  });

  it('everything but the plain case goes to the app: no or a malformed credential, HEAD, POST, a query, a trailing slash', async () => {
    const token = await fixture.fake.firebaseIdToken({ sub: 'fast-user-2', user_id: 'fast-user-2' });
    expect((await answer('/v1/me')).status).toBe(401);
    expect((await answer('/v1/me', { authorization: 'Basic Zm9vOmJhcg==' })).status).toBe(401);
    expect((await answer('/v1/me', { authorization: 'Bearer not a token' })).status).toBe(400);
    expect((await answer('/v1/me', { authorization: `Bearer ${token}` }, 'HEAD')).status).toBe(200);
    expect((await answer('/v1/me', { authorization: `Bearer ${token}` }, 'POST')).status).toBe(405);
    expect((await answer('/v1/me/', { authorization: `Bearer ${token}` })).status).toBe(404);
    expect(fixture.lanes.taken).toEqual({ fast: 0, app: 6 });
  });

  it('logs the request line with the route and the caller\'s X-Request-Id, and no token', async () => {
    const token = await fixture.fake.firebaseIdToken({ sub: 'logged-user', user_id: 'logged-user' });
    const before = fixture.bridge.logs.lines.length;
    const res = await fixture.lanes.fetch(`${fixture.lanes.fastUrl}/v1/me`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': 'trace-fast-1' } });
    expect(res.headers.get('x-request-id')).toBe('trace-fast-1');
    await res.text();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const lines = fixture.bridge.logs.lines.slice(before);
    const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request');
    expect(line).toMatchObject({ reqId: 'trace-fast-1', method: 'GET', path: '/v1/me', status: 200 });
    expect(lines.join('\n')).not.toContain(token.split('.')[2]);
    expect(fixture.lanes.taken.fast).toBe(1);
  });

  it('with CORS on, a request with an Origin goes to the app (its CORS headers); without one the fast path answers', async () => {
    const cors = bridgeFor(fixture.fake, { env: { CORS_ORIGINS: 'https://app.example.com' } });
    const two = await twoLanes(cors);
    const [corsUrl, corsAppUrl] = [two.fastUrl, two.appUrl];
    try {
      const token = await fixture.fake.firebaseIdToken({ sub: 'cors-user', user_id: 'cors-user' });
      const withOrigin = await globalThis.fetch(`${corsUrl}/v1/me`, { headers: { authorization: `Bearer ${token}`, origin: 'https://app.example.com' } });
      expect(withOrigin.status).toBe(200);
      expect(withOrigin.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const without = await globalThis.fetch(`${corsUrl}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(without.status).toBe(200);
      expect(without.headers.get('access-control-allow-origin')).toBeNull();
      // Without an Origin, the fast answer has every header the app's has (Vary: Origin from its CORS step included).
      const viaApp = await globalThis.fetch(`${corsAppUrl}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(headersOf(without)).toEqual(headersOf(viaApp));
      expect(without.headers.get('vary')).toBe('Origin');
      expect(two.taken).toEqual({ fast: 1, app: 1 });
    } finally {
      await two.close();
    }
  });
});
