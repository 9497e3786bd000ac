import request from 'supertest';
import { FakeGoogle } from '../../testkit/fake-google';
import { type TestBridge, bridgeFor } from '../../testkit/harness';

describe('POST /v1/token/google: input errors are clear JSON, never a 5xx', () => {
  let fake: FakeGoogle;
  let bridge: TestBridge;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    bridge = bridgeFor(fake);
  });
  afterAll(() => fake.close());

  const post = () => request(bridge.app).post('/v1/token/google');

  it.each([
    ['no body', undefined, /JSON object/],
    ['an empty object', {}, /"idToken" is required/],
    ['a number idToken', { idToken: 42 }, /non-empty string/],
    ['an empty idToken', { idToken: '' }, /non-empty string/],
    ['an array idToken', { idToken: ['a.b.c'] }, /non-empty string/],
    ['a JSON array body', [{ idToken: 'a.b.c' }], /JSON object/],
  ])('%s → 400 invalid_request', async (_name, body, description) => {
    const req = post();
    const res = body === undefined ? await req : await req.send(body as object);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toMatch(description);
    expect(res.headers['content-type']).toMatch(/application\/json/);
  });

  it('malformed JSON → 400 invalid_request, no stack trace', async () => {
    const res = await post().set('content-type', 'application/json').send('{"idToken": "abc"');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'request body is not valid JSON' });
    expect(res.text).not.toMatch(/at .*\.js|SyntaxError/);
  });

  it('a body over MAX_BODY_BYTES (default 16 KiB) → 413', async () => {
    const res = await post().send({ idToken: 'x'.repeat(17 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toMatch(/16384/);
  });

  it('MAX_BODY_BYTES is honoured', async () => {
    const small = bridgeFor(fake, { env: { MAX_BODY_BYTES: '1024' } });
    const res = await request(small.app).post('/v1/token/google').send({ idToken: 'x'.repeat(2000) });
    expect(res.status).toBe(413);
  });

  it('an invalid Google ID token → 401 invalid_token with a description (no WWW-Authenticate: not a protected route)', async () => {
    const res = await post().send({ idToken: await fake.googleIdToken({ aud: 'someone-else.apps.googleusercontent.com' }) });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
    expect(res.body.error_description).toMatch(/aud/);
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('a Firebase ID token is not accepted as a Google ID token', async () => {
    const res = await post().send({ idToken: await fake.firebaseIdToken() });
    expect(res.status).toBe(401);
  });

  it('every client ID of GOOGLE_CLIENT_IDS is accepted', async () => {
    for (const aud of ['web-client.apps.googleusercontent.com', 'other-client.apps.googleusercontent.com']) {
      await post().send({ idToken: await fake.googleIdToken({ aud }) }).expect(200);
    }
  });

  it('responses carry helmet headers, no x-powered-by, and Cache-Control: no-store', async () => {
    const res = await post().send({ idToken: await fake.googleIdToken() }).expect(200);
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['cache-control']).toBe('no-store');
    const notFound = await request(bridge.app).get('/nope').expect(404);
    expect(notFound.headers['x-powered-by']).toBeUndefined();
    expect(notFound.body).toEqual({ error: 'not_found', error_description: 'no such route' });
  });

  it('local-mode endpoints do not exist in a configured server', async () => {
    await request(bridge.app).post('/local/google/id-token').send({}).expect(404);
    await request(bridge.app)
      .post('/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken')
      .send({ token: 'x' })
      .expect(404);
  });
});

describe('health', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('GET /healthz is 200; GET /readyz is 200 with a signing key and 503 without', async () => {
    const { app, deps } = bridgeFor(fake);
    await request(app).get('/healthz').expect(200, { status: 'ok' });
    const reachable = { backend: 'memory', reachable: true };
    // The audit trail is reported too (test/audit/readyz.test.ts covers it); pending varies with the flush.
    const audit = { writable: true, pending: expect.any(Number), dropped: 0 };
    expect((await request(app).get('/readyz').expect(200)).body).toEqual({ status: 'ready', store: reachable, audit });
    const ping = jest.spyOn(deps.store, 'ping').mockResolvedValue(false);
    expect((await request(app).get('/readyz').expect(503)).body).toEqual({
      status: 'not_ready',
      reason: 'shared store unreachable',
      store: { backend: 'memory', reachable: false },
      audit,
    });
    ping.mockRestore();
    jest.spyOn(deps.minter, 'isReady').mockReturnValue(false);
    const res = await request(app).get('/readyz').expect(503);
    expect(res.body).toEqual({ status: 'not_ready', reason: 'no signing key loaded', store: reachable, audit });
  });

  it('an unexpected failure is a 500 with a generic body; the detail goes to the log only', async () => {
    const { app, deps, logs } = bridgeFor(fake);
    jest.spyOn(deps.minter, 'mint').mockRejectedValue(new Error('disk on fire at /secret/path'));
    const res = await request(app).post('/v1/token/google').send({ idToken: await fake.googleIdToken() }).expect(500);
    expect(res.body).toEqual({ error: 'server_error', error_description: 'internal error' });
    expect(res.text).not.toContain('/secret/path');
    expect(logs.text).toContain('disk on fire');
  });
});
