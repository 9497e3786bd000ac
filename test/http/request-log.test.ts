import request from 'supertest';
import { UNMATCHED_ROUTE } from '../../src/http/request-logger';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor } from '../../testkit/harness';

describe('the request log: the matched route, never the raw path; every line has the request ID', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('GET /v1/<a token> does not write the token into the log: unmatched requests log a fixed placeholder', async () => {
    const { app, logs } = bridgeFor(fake);
    const token = await fake.firebaseIdToken({ sub: 'leaky' });
    for (const path of [`/v1/${token}`, `/${token}`, `/v1/me/${token}`, `/v1/token/google/${token}`]) {
      await request(app).get(path).expect(404);
      await request(app).post(path).send({}).expect(404);
    }
    expect(UNMATCHED_ROUTE).toBe('(unmatched)');
    const lines = logs.entries().filter((e) => e.msg === 'request');
    expect(lines).toHaveLength(8);
    for (const line of lines) expect(line).toMatchObject({ path: '(unmatched)', status: 404 });
    expect(logs.text).not.toContain(token);
    expect(logs.text).not.toContain(token.split('.')[1] as string);
    expect(logs.text).not.toContain(token.split('.')[2] as string);
  });

  it('matched requests log the route pattern (also for a refused method or token); a body refused before routing logs the placeholder', async () => {
    const { app, logs } = bridgeFor(fake);
    await request(app).get('/healthz').expect(200);
    await request(app).get('/v1/me').set('Authorization', 'Bearer a.b.c').expect(401);
    await request(app).get('/v1/token/google?idToken=secret-in-query').expect(405);
    await request(app).post('/v1/token/google').send({ idToken: 'junk' }).expect(401);
    await request(app).post('/v1/token/google').set('Content-Type', 'application/json').send('{"idToken":').expect(400);
    const lines = logs.entries().filter((e) => e.msg === 'request');
    expect(lines.map((e) => [e.method, e.path, e.status])).toEqual([
      ['GET', '/healthz', 200],
      ['GET', '/v1/me', 401],
      ['GET', '/v1/token/google', 405],
      ['POST', '/v1/token/google', 401],
      ['POST', '(unmatched)', 400],
    ]);
    expect(logs.text).not.toContain('secret-in-query');
  });

  it('"request refused" (and the rate limiter\'s line) carry the request ID of the request they belong to', async () => {
    const { app, logs } = bridgeFor(fake, { env: { RATE_LIMIT_EXCHANGE_PER_MINUTE: '1' } });
    const startUp = logs.lines.length;
    const refused = await request(app).get('/v1/me').set('X-Request-Id', 'trace-me-1').set('Authorization', 'Bearer a.b.c').expect(401);
    expect(refused.headers['x-request-id']).toBe('trace-me-1');
    const other = await request(app).post('/v1/token/google').send({ idToken: 'junk' }).expect(401);
    const limited = await request(app).post('/v1/token/google').send({ idToken: 'junk' }).expect(429);
    const refusals = logs.entries().filter((e) => e.msg === 'request refused');
    expect(refusals.map((e) => [e.reqId, e.status])).toEqual([
      ['trace-me-1', 401],
      [other.headers['x-request-id'], 401],
      [limited.headers['x-request-id'], 429],
    ]);
    expect(logs.entries().find((e) => e.msg === 'rate limit exceeded')?.reqId).toBe(limited.headers['x-request-id']);
    // Every line logged while serving has the ID of its request, and IDs differ between requests.
    const ids = new Set(logs.entries().slice(startUp).map((e) => e.reqId));
    expect(ids).toEqual(new Set(['trace-me-1', other.headers['x-request-id'], limited.headers['x-request-id']]));
    // An inbound ID that is not a sane token is replaced, never logged.
    const odd = await request(app).get('/healthz').set('X-Request-Id', 'a b"c').expect(200);
    expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(logs.text).not.toContain('a b\\"c');
  });
});
