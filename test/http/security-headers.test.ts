import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { helmetDefaultHeaders } from '../../src/http/security-headers';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor } from '../../testkit/harness';
import { notTheBridge } from '../../testkit/openapi-validator';

/** Headers every express response has whatever middleware ran (so not helmet's). */
const EXPRESS_OWN = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'x-powered-by', 'etag']);

/** What helmet() itself sets on a real express response: the reference the bridge's precomputed headers must equal. */
async function helmetReference(): Promise<Record<string, string>> {
  // helmet on a bare express app, not the bridge: its /x is no route of the bridge's document.
  const app = notTheBridge(express());
  app.disable('x-powered-by');
  app.use(helmet());
  app.get('/x', (_req, res) => {
    res.json({ ok: true });
  });
  const res = await request(app).get('/x').expect(200);
  return Object.fromEntries(Object.entries(res.headers as Record<string, string>).filter(([name]) => !EXPRESS_OWN.has(name)));
}

/** The route's own headers (the exchange's rate limit) are not the fixed set either. */
function withoutExpressOwn(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !EXPRESS_OWN.has(name) && !name.startsWith('ratelimit-')));
}

describe('security headers: exactly the ones helmet sets, precomputed, plus no-store and the request ID', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('the recorded set is helmet\'s own, names and values, and not empty', async () => {
    const reference = await helmetReference();
    const recorded = Object.fromEntries(helmetDefaultHeaders().map(([name, value]) => [name.toLowerCase(), value]));
    expect(Object.keys(reference).length).toBeGreaterThanOrEqual(10);
    expect(recorded).toEqual(reference);
    expect(reference['content-security-policy']).toContain("default-src 'self'");
    expect(reference['strict-transport-security']).toMatch(/^max-age=\d+/);
  });

  it('every response of the bridge carries helmet\'s headers, Cache-Control: no-store and X-Request-Id, nothing else', async () => {
    const reference = await helmetReference();
    const { app } = bridgeFor(fake);
    const token = await fake.firebaseIdToken({ sub: 'ada' });
    const responses = [
      await request(app).get('/v1/me').set('Authorization', `Bearer ${token}`).expect(200),
      await request(app).get('/v1/me').expect(401),
      await request(app).get('/healthz').expect(200),
      await request(app).post('/v1/token/google').send({ idToken: 'junk' }).expect(401),
      await request(app).get('/no/such/route').expect(404),
      await request(app).post('/v1/token/google').set('Content-Type', 'application/json').send('{"idToken":').expect(400),
    ];
    for (const res of responses) {
      const headers = withoutExpressOwn(res.headers as Record<string, string>);
      const { 'cache-control': cacheControl, 'x-request-id': reqId, 'www-authenticate': challenge, allow, ...rest } = headers;
      expect(cacheControl).toBe('no-store');
      expect(reqId).toMatch(/^[0-9a-f-]{36}$/);
      if (challenge !== undefined) expect(challenge).toMatch(/^Bearer realm=/);
      expect(allow).toBeUndefined();
      expect(rest).toEqual(reference);
    }
  });
});
