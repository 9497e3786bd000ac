import request from 'supertest';
import { FakeGoogle } from '../../testkit/fake-google';
import { type TestBridge, bridgeFor } from '../../testkit/harness';

/**
 * Forward-auth answers a proxy, never a browser: a 2xx is "let the original request through". With CORS on, an
 * OPTIONS carrying Origin and Access-Control-Request-Method (Envoy and Traefik's preserveRequestMethod forward the
 * original method and its headers) must not be answered by the CORS middleware's 204, which the proxy would take as
 * an allow for a request with no token at all.
 */
describe('forward-auth with CORS_ORIGINS: a preflight-shaped request is never a pass', () => {
  let fake: FakeGoogle;
  let bridge: TestBridge;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    bridge = bridgeFor(fake, { env: { CORS_ORIGINS: 'https://app.example.com' } });
  });
  afterAll(() => fake.close());

  it.each(['/v1/authz', '/v1/authz/', '/v1/authz/api/orders/7'])('OPTIONS %s with an allowed Origin and no token: 401, no CORS answer', async (path) => {
    const res = await request(bridge.app)
      .options(path)
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'DELETE');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="firebridge"/);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('the same request with a valid token is answered by forward-auth (200 with X-Auth-Uid), not by CORS', async () => {
    const token = await fake.firebaseIdToken({ sub: 'user-cors' });
    const res = await request(bridge.app)
      .options('/v1/authz/api')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'POST')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(res.headers['x-auth-uid']).toBe('user-cors');
  });

  it('the bridge\'s own routes keep CORS (a preflight elsewhere is still 204)', async () => {
    const res = await request(bridge.app)
      .options('/v1/me')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'GET')
      .expect(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
  });
});
