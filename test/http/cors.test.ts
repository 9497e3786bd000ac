import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createDependencies } from '../../src/compose/dependencies';
import { ConfigError, loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { FakeGoogle } from '../../testkit/fake-google';
import { LogCapture, bridgeFor } from '../../testkit/harness';

const SDK_HEADERS = 'content-type,x-client-version,x-firebase-gmpid,x-firebase-client';

function localApp(env: Record<string, string> = {}) {
  const tmp = mkdtempSync(path.join(tmpdir(), 'firebridge-cors-'));
  const config = loadConfig({ LOCAL_STATE_DIR: path.join(tmp, '.local'), KEYS_DIR: path.join(tmp, 'nokeys'), ...env }, tmp);
  const deps = createDependencies(config, { logger: createLogger('silent', new LogCapture()), clock: Date.now, fetch: globalThis.fetch });
  return createApp(config, deps);
}

function preflight(app: Parameters<typeof request>[0], route: string, origin: string, method = 'POST') {
  return request(app)
    .options(route)
    .set('Origin', origin)
    .set('Access-Control-Request-Method', method)
    .set('Access-Control-Request-Headers', SDK_HEADERS);
}

describe('CORS (CORS_ORIGINS)', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('configured mode: an allowed origin gets its preflight (204, methods, the SDK headers) and its answers marked', async () => {
    const { app } = bridgeFor(fake, { env: { CORS_ORIGINS: 'https://app.example.com,http://localhost:5173' } });
    const res = await preflight(app, '/v1/token/google', 'https://app.example.com').expect(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(res.headers['access-control-allow-methods']).toContain('POST');
    const allowedHeaders = (res.headers['access-control-allow-headers'] as string).toLowerCase().split(', ');
    for (const header of ['authorization', ...SDK_HEADERS.split(','), 'x-firebase-locale', 'x-firebase-appcheck']) {
      expect(allowedHeaders).toContain(header);
    }
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers.vary).toMatch(/Origin/);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();

    const get = await request(app).get('/healthz').set('Origin', 'http://localhost:5173').expect(200);
    expect(get.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(get.headers['access-control-expose-headers']).toContain('WWW-Authenticate');
    expect(get.headers.vary).toMatch(/Origin/);
    // A refusal is readable too (the page sees the 401 and its WWW-Authenticate).
    const me = await request(app).get('/v1/me').set('Origin', 'https://app.example.com').expect(401);
    expect(me.headers['access-control-allow-origin']).toBe('https://app.example.com');
  });

  it('never reflects an origin that is not allowed; its preflight goes on to the route (no 204)', async () => {
    const { app } = bridgeFor(fake, { env: { CORS_ORIGINS: 'https://app.example.com' } });
    for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.com', 'http://app.example.com', 'null', 'http://localhost:5173']) {
      const res = await preflight(app, '/v1/token/google', origin);
      expect(res.status).not.toBe(204);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-allow-methods']).toBeUndefined();
      const get = await request(app).get('/healthz').set('Origin', origin).expect(200);
      expect(get.headers['access-control-allow-origin']).toBeUndefined();
      expect(get.headers.vary).toMatch(/Origin/);
    }
  });

  it('none by default outside local mode: no CORS header, no Vary', async () => {
    const { app } = bridgeFor(fake);
    const res = await preflight(app, '/v1/token/google', 'https://app.example.com');
    expect(res.status).toBe(405);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const get = await request(app).get('/healthz').set('Origin', 'https://app.example.com').expect(200);
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
    expect(get.headers.vary).toBeUndefined();
  });

  it('"*" is refused outside local mode, and every entry must be an origin; the error names CORS_ORIGINS', () => {
    const base = { NODE_ENV: 'test', FIREBASE_PROJECT_ID: 'my-app-12345', GOOGLE_CLIENT_IDS: 'a', KEYS_DIR: '/nonexistent' };
    for (const value of ['*', 'https://app.example.com,*', 'https://app.example.com/', 'https://app.example.com/path', 'app.example.com', 'ftp://x.example.com', 'https://App.example.com']) {
      let error: unknown;
      try {
        loadConfig({ ...base, CORS_ORIGINS: value });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((problem) => problem.setting)).toContain('CORS_ORIGINS');
    }
    expect(loadConfig({ ...base, CORS_ORIGINS: 'https://app.example.com,http://localhost:3000' }).cors.origins).toEqual([
      'https://app.example.com',
      'http://localhost:3000',
    ]);
  });

  it('local mode allows http://localhost:* and http://127.0.0.1:* by default, on its emulator routes too', async () => {
    const app = localApp();
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8081', 'http://localhost']) {
      const res = await preflight(app, '/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken', origin).expect(204);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      const refresh = await preflight(app, '/securetoken.googleapis.com/v1/token', origin).expect(204);
      expect(refresh.headers['access-control-allow-origin']).toBe(origin);
    }
    for (const origin of ['https://localhost:5173', 'http://localhost.evil.com', 'http://127.0.0.2:80', 'http://localhost:5173.evil.com']) {
      const res = await preflight(app, '/v1/token/google', origin);
      expect(res.status).not.toBe(204);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
    const certs = await request(app).get('/oauth2/v3/certs').set('Origin', 'http://localhost:3000').expect(200);
    expect(certs.headers['access-control-allow-origin']).toBe('http://localhost:3000');
  });

  it('local mode: CORS_ORIGINS adds origins, and "*" allows any (answered as *)', async () => {
    const listed = localApp({ CORS_ORIGINS: 'http://devbox.lan:3000' });
    expect((await preflight(listed, '/v1/token/google', 'http://devbox.lan:3000').expect(204)).headers['access-control-allow-origin']).toBe(
      'http://devbox.lan:3000',
    );
    expect((await preflight(listed, '/v1/token/google', 'http://localhost:3000').expect(204)).headers['access-control-allow-origin']).toBe(
      'http://localhost:3000',
    );
    const any = localApp({ CORS_ORIGINS: '*' });
    const res = await preflight(any, '/v1/token/google', 'https://anything.example.com').expect(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });
});
