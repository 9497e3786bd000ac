import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fastMe, withFastMe } from '../../src/http/fast-me';
import { createApp, createRequestListener } from '../../src/http/app';
import { createHttpServer } from '../../src/http/http-server';
import { securityHeaderSetter } from '../../src/http/security-headers';
import { corsEnabled } from '../../src/http/cors';
import { FakeGoogle } from '../../testkit/fake-google';
import { generateTestKey } from '../../testkit/keys';
import { type TestBridge, bridgeFor } from '../../testkit/harness';
import { bridgeFetch } from '../../testkit/openapi-fetch';

/** Headers that differ between any two answers whatever answered them. */
const PER_ANSWER = new Set(['date', 'x-request-id', 'connection', 'keep-alive']);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function listen(listener: RequestListener, bridge: TestBridge): Promise<{ server: Server; url: string }> {
  const server = createHttpServer(listener, bridge.config.http).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * GET /v1/me answered on node:http in front of express (src/http/fast-me.ts): the same answers as the express
 * route, answer for answer (status, body, every header but the per-answer ones), and only the plain case taken.
 */
describe('the fast GET /v1/me', () => {
  let fake: FakeGoogle;
  let bridge: TestBridge;
  let server: Server;
  let url: string;
  const taken = { fast: 0, app: 0 };
  const fetch = bridgeFetch();

  beforeAll(async () => {
    fake = await FakeGoogle.start();
    bridge = bridgeFor(fake);
    // The server's listener, with the two ways counted: what the fast path did not take reached the app.
    const app = createApp(bridge.config, bridge.deps);
    const fast = fastMe({
      verifier: bridge.deps.firebaseVerifier,
      logger: bridge.deps.logger,
      setSecurityHeaders: securityHeaderSetter(),
      corsEnabled: corsEnabled(bridge.config.cors),
      ...(bridge.deps.metrics?.observeRequest ? { observe: bridge.deps.metrics.observeRequest } : {}),
    });
    const counted = withFastMe(
      (req, res) => {
        taken.app += 1;
        app(req, res);
      },
      (req, res) => {
        const took = fast(req, res);
        if (took) taken.fast += 1;
        return took;
      },
    );
    ({ server, url } = await listen(counted, bridge));
    fetch.bridge(url);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await fake.close();
  });
  beforeEach(() => {
    taken.fast = 0;
    taken.app = 0;
  });

  async function answer(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
    const res = await fetch(`${url}${path}`, { method, headers });
    const all: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      if (!PER_ANSWER.has(name)) all[name] = value;
    });
    return { status: res.status, headers: all, body: await res.text() };
  }

  /** The fast answer for `headers`, and the app's for the same request (a query string sends it to express). */
  async function both(headers: Record<string, string>): Promise<{ fast: Answer; app: Answer }> {
    const fastAnswer = await answer('/v1/me', headers);
    const appAnswer = await answer('/v1/me?via=express', headers);
    return { fast: fastAnswer, app: appAnswer };
  }

  it('a never-seen token, then the same token again (a cache hit): the app\'s answers, taken by the fast path', async () => {
    const token = await fake.firebaseIdToken({ sub: 'fast-user', user_id: 'fast-user', email: 'ada@example.com' });
    const first = await answer('/v1/me', { authorization: `Bearer ${token}` });
    const second = await answer('/v1/me', { authorization: `Bearer ${token}` });
    const viaApp = await answer('/v1/me?via=express', { authorization: `Bearer ${token}` });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ uid: 'fast-user', claims: { email: 'ada@example.com' } });
    expect(second).toEqual(first);
    expect(viaApp).toEqual(first);
    expect(taken).toEqual({ fast: 2, app: 1 });
    expect(first.headers['content-security-policy']).toBeDefined();
    expect(first.headers['cache-control']).toBe('no-store');
  });

  it('refusals: a forged signature, an expired token, another project: the same status, body and challenge', async () => {
    const forged = await fake.firebaseIdToken({ sub: 'evil' }, { key: { ...generateTestKey(), kid: fake.securetoken.keys[0]!.kid } });
    const past = Math.floor(Date.now() / 1000) - 7200;
    const expired = await fake.firebaseIdToken({ iat: past, exp: past + 3600, auth_time: past - 10 });
    const otherProject = await fake.firebaseIdToken({}, { projectId: 'another-project' });
    for (const token of [forged, expired, otherProject]) {
      const { fast: f, app: a } = await both({ authorization: `Bearer ${token}` });
      expect(f.status).toBe(401);
      expect(f).toEqual(a);
      expect(f.headers['www-authenticate']).toMatch(/^Bearer realm="firebridge", error="invalid_token"/);
    }
    expect(taken).toEqual({ fast: 3, app: 3 });
  });

  it('everything but the plain case goes to the app: no or a malformed credential, HEAD, POST, a query, a trailing slash', async () => {
    const token = await fake.firebaseIdToken({ sub: 'fast-user-2', user_id: 'fast-user-2' });
    expect((await answer('/v1/me')).status).toBe(401);
    expect((await answer('/v1/me', { authorization: 'Basic Zm9vOmJhcg==' })).status).toBe(401);
    expect((await answer('/v1/me', { authorization: 'Bearer not a token' })).status).toBe(400);
    expect((await answer('/v1/me', { authorization: `Bearer ${token}` }, 'HEAD')).status).toBe(200);
    expect((await answer('/v1/me', { authorization: `Bearer ${token}` }, 'POST')).status).toBe(405);
    expect((await answer('/v1/me/', { authorization: `Bearer ${token}` })).status).toBe(404);
    expect(taken).toEqual({ fast: 0, app: 6 });
  });

  it('logs the request line with the route and the caller\'s X-Request-Id, and no token', async () => {
    const token = await fake.firebaseIdToken({ sub: 'logged-user', user_id: 'logged-user' });
    const before = bridge.logs.lines.length;
    const res = await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': 'trace-fast-1' } });
    expect(res.headers.get('x-request-id')).toBe('trace-fast-1');
    await res.text();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const lines = bridge.logs.lines.slice(before);
    const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request');
    expect(line).toMatchObject({ reqId: 'trace-fast-1', method: 'GET', path: '/v1/me', status: 200 });
    expect(lines.join('\n')).not.toContain(token.split('.')[2]);
    expect(taken.fast).toBe(1);
  });

  it('with CORS on, a request with an Origin goes to the app (its CORS headers); without one the fast path answers', async () => {
    const cors = bridgeFor(fake, { env: { CORS_ORIGINS: 'https://app.example.com' } });
    const { server: corsServer, url: corsUrl } = await listen(createRequestListener(cors.config, cors.deps), cors);
    try {
      const token = await fake.firebaseIdToken({ sub: 'cors-user', user_id: 'cors-user' });
      const withOrigin = await globalThis.fetch(`${corsUrl}/v1/me`, { headers: { authorization: `Bearer ${token}`, origin: 'https://app.example.com' } });
      expect(withOrigin.status).toBe(200);
      expect(withOrigin.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const without = await globalThis.fetch(`${corsUrl}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(without.status).toBe(200);
      expect(without.headers.get('access-control-allow-origin')).toBeNull();
      // Without an Origin, the fast answer has every header the app's has (Vary: Origin from its CORS step included).
      const viaApp = await globalThis.fetch(`${corsUrl}/v1/me?via=express`, { headers: { authorization: `Bearer ${token}` } });
      const headersOf = (res: Response) => {
        const all: Record<string, string> = {};
        res.headers.forEach((value, name) => {
          if (!PER_ANSWER.has(name)) all[name] = value;
        });
        return all;
      };
      expect(headersOf(without)).toEqual(headersOf(viaApp));
      expect(without.headers.get('vary')).toBe('Origin');
    } finally {
      await new Promise((resolve) => corsServer.close(resolve));
    }
  });
});
