import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { RecordingPush } from '../../testkit/recording-push';
import { loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { createDependencies } from '../../src/compose/dependencies';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor } from '../../testkit/harness';

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/**
 * Every route the app really serves, read from express's own router (so a route added later is
 * covered too): path pattern → the methods its handlers take. Catch-all (`router.all`) layers add
 * no method.
 */
function servedRoutes(app: Express): Map<string, Set<string>> {
  const routes = new Map<string, Set<string>>();
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route && typeof layer.route.path === 'string') {
        const methods = routes.get(layer.route.path) ?? new Set<string>();
        for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') methods.add(method.toUpperCase());
        routes.set(layer.route.path, methods);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  for (const methods of routes.values()) if (methods.has('GET')) methods.add('HEAD');
  return routes;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Routes that take every method by design (forward-auth: Traefik and Envoy send the original method), never 405. */
const ANY_METHOD = new Set(['/v1/authz', '/v1/authz/{*rest}']);

async function expectMethodNotAllowedEverywhere(app: Express, routes: Map<string, Set<string>>): Promise<number> {
  let checked = 0;
  for (const [pattern, methods] of routes) {
    if (ANY_METHOD.has(pattern)) {
      const url = pattern === '/v1/authz' ? pattern : '/v1/authz/some/path';
      for (const method of METHODS) {
        const res = await request(app)[method.toLowerCase() as 'get'](url);
        expect({ url, method, status: res.status }).toEqual({ url, method, status: 401 });
      }
      continue;
    }
    const url = pattern.replace(/\\:/g, ':');
    const allow = [...methods].join(', ');
    for (const method of METHODS.filter((m) => !methods.has(m))) {
      const res = await request(app)[method.toLowerCase() as 'get'](url);
      expect({ url, method, status: res.status, allow: res.headers.allow }).toEqual({ url, method, status: 405, allow });
      if (method !== 'HEAD') {
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.body).toEqual({ error: 'method_not_allowed', error_description: `${method} is not allowed here; this route takes ${allow}` });
      }
      checked++;
    }
  }
  return checked;
}

describe('routing: exact paths; 405 with Allow for a known path, 404 for an unknown one', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('GET /v1/token/google → 405 Allow: POST, in the JSON error shape; a really unknown path stays 404', async () => {
    const { app } = bridgeFor(fake);
    const res = await request(app).get('/v1/token/google').expect(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.body).toEqual({ error: 'method_not_allowed', error_description: 'GET is not allowed here; this route takes POST' });
    expect(res.headers['cache-control']).toBe('no-store');
    const me = await request(app).post('/v1/me').expect(405);
    expect(me.headers.allow).toBe('GET, HEAD');
    // Not a 401: the method is refused before any authentication.
    expect(me.headers['www-authenticate']).toBeUndefined();
    for (const method of ['get', 'post', 'put', 'delete'] as const) {
      const missing = await request(app)[method]('/v1/token/facebook');
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ error: 'not_found', error_description: 'no such route' });
    }
  });

  it('paths match exactly: case-sensitive and strict (another case or a trailing slash is another path)', async () => {
    const { app } = bridgeFor(fake);
    for (const [method, path] of [
      ['get', '/V1/ME'],
      ['get', '/v1/Me'],
      ['get', '/v1/me/'],
      ['get', '/HEALTHZ'],
      ['get', '/healthz/'],
      ['get', '/readyz/'],
      ['post', '/v1/token/google/'],
      ['post', '/V1/TOKEN/GOOGLE'],
      ['post', '/v1/nonce/'],
      ['post', '/V1/NONCE'],
    ] as const) {
      const res = await request(app)[method](path).send({ idToken: 'x' });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
    }
    await request(app).get('/healthz').expect(200);
    await request(app).post('/v1/nonce').expect(200);
  });

  it('every route of a configured server with the admin API and the push relay answers 405 with Allow for other methods', async () => {
    const { app } = bridgeFor(fake, {
      env: { ADMIN_API_TOKEN: 'admin-secret-0123456789-abcdefghijklmnop', PUSH_API_TOKEN: 'push-secret-9876543210-zyxwvutsrqponmlk' },
    });
    const routes = servedRoutes(app);
    expect(Object.fromEntries([...routes].map(([p, m]) => [p, [...m].sort()]))).toEqual({
      '/healthz': ['GET', 'HEAD'],
      '/readyz': ['GET', 'HEAD'],
      // METRICS_ENABLED is on by default, and without METRICS_PORT /metrics is on the main port.
      '/metrics': ['GET', 'HEAD'],
      '/openapi.json': ['GET', 'HEAD'],
      '/v1/token/google': ['POST'],
      '/oauth/token': ['POST'],
      '/v1/nonce': ['POST'],
      '/v1/me': ['GET', 'HEAD'],
      '/v1/admin/revoke': ['POST'],
      '/v1/push/send': ['POST'],
      '/v1/authz': [],
      '/v1/authz/{*rest}': [],
    });
    for (const pathname of ['/v1/push/send/', '/V1/PUSH/SEND', '/v1/Push/send']) {
      await request(app).post(pathname).set('Authorization', 'Bearer push-secret-9876543210-zyxwvutsrqponmlk').send({}).expect(404);
    }
    expect(await expectMethodNotAllowedEverywhere(app, routes)).toBeGreaterThan(25);
  });

  it('with DEVICE_SIGN_IN=true, the device sign-in routes are served, POST only (405 with Allow for others)', async () => {
    const { app } = bridgeFor(fake, { push: new RecordingPush(), env: { DEVICE_SIGN_IN: 'true' } });
    const routes = servedRoutes(app);
    expect(routes.get('/v1/device/challenge')).toEqual(new Set(['POST']));
    expect(routes.get('/v1/device/verify')).toEqual(new Set(['POST']));
    await expectMethodNotAllowedEverywhere(app, routes);
    await request(app).post('/V1/DEVICE/CHALLENGE').send({ fcmToken: 'abc' }).expect(404);
    await request(app).post('/v1/device/challenge/').send({ fcmToken: 'abc' }).expect(404);
  });

  it("every route of local mode does too, and the emulated Identity Toolkit path is literal (no ':' parameter)", async () => {
    const config = loadConfig({ LOCAL_STATE_DIR: path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-routing-')), '.local') });
    expect(config.mode).toBe('local');
    const deps = createDependencies(config, { logger: createLogger('silent'), clock: Date.now, fetch: globalThis.fetch });
    const app = createApp(config, deps);
    const routes = servedRoutes(app);
    expect(routes.get('/local/google/id-token')).toEqual(new Set(['POST']));
    expect(routes.get('/local/fcm/messages')).toEqual(new Set(['GET', 'HEAD']));
    for (const call of ['signInWithCustomToken', 'lookup', 'update', 'delete']) {
      expect(routes.get(`/identitytoolkit.googleapis.com/v1/accounts\\:${call}`)).toEqual(new Set(['POST']));
    }
    expect(routes.get('/securetoken.googleapis.com/v1/token')).toEqual(new Set(['POST']));
    for (const keySet of ['/oauth2/v3/certs', '/oauth2/v1/certs', '/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com']) {
      expect(routes.get(keySet)).toEqual(new Set(['GET', 'HEAD']));
    }
    await expectMethodNotAllowedEverywhere(app, routes);
    await request(app).post('/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken').send({ token: 'x' }).expect(400);
    // Unescaped, ":signInWithCustomToken" was a route parameter and this path reached the handler.
    await request(app).post('/identitytoolkit.googleapis.com/v1/accountsAnything').send({ token: 'x' }).expect(404);
    await request(app).post('/identitytoolkit.googleapis.com/v1/accounts:signUp').send({ token: 'x' }).expect(404);
  });
});
