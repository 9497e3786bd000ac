import express from 'express';
import passport from 'passport';
import request from 'supertest';
import { FirebaseBearerStrategy, firebaseVerifier, requireFirebaseAuth } from '../../src';
import { FakeGoogle } from '../../testkit/fake-google';
import { type TestBridge, bridgeFor } from '../../testkit/harness';
import { notTheBridge } from '../../testkit/openapi-validator';

describe('protected routes: GET /v1/me and the exported middleware', () => {
  let fake: FakeGoogle;
  let bridge: TestBridge;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    bridge = bridgeFor(fake);
  });
  afterAll(() => fake.close());

  it('a valid Firebase ID token → 200 {uid, claims}', async () => {
    const token = await fake.firebaseIdToken({ sub: 'user-1', email: 'u@example.com' });
    const res = await request(bridge.app).get('/v1/me').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.body.uid).toBe('user-1');
    expect(res.body.claims).toMatchObject({ sub: 'user-1', email: 'u@example.com', aud: fake.projectId });
  });

  it('only spaces separate the scheme from the token (a tab is not a Bearer credential)', async () => {
    const token = await fake.firebaseIdToken();
    await request(bridge.app).get('/v1/me').set('Authorization', `Bearer   ${token}`).expect(200);
    const tab = await request(bridge.app).get('/v1/me').set('Authorization', `Bearer\t${token}`).expect(401);
    expect(tab.headers['www-authenticate']).toBe('Bearer realm="firebridge"');
  });

  it.each(['bearer', 'BEARER', 'BeArEr'])('the scheme is case-insensitive (%s)', async (scheme) => {
    const token = await fake.firebaseIdToken();
    await request(bridge.app).get('/v1/me').set('Authorization', `${scheme} ${token}`).expect(200);
  });

  it('no credentials → 401 with a bare challenge (no error code)', async () => {
    const res = await request(bridge.app).get('/v1/me').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="firebridge"');
    const basic = await request(bridge.app).get('/v1/me').set('Authorization', 'Basic dTpw').expect(401);
    expect(basic.headers['www-authenticate']).toBe('Bearer realm="firebridge"');
  });

  it('an invalid token → 401 with error="invalid_token" and a description', async () => {
    const expired = await fake.firebaseIdToken({ exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 });
    const res = await request(bridge.app).get('/v1/me').set('Authorization', `Bearer ${expired}`).expect(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="firebridge", error="invalid_token", error_description="token has expired"',
    );
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'token has expired' });
  });

  it('a Google ID token is not a Firebase ID token', async () => {
    const res = await request(bridge.app).get('/v1/me').set('Authorization', `Bearer ${await fake.googleIdToken()}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  it('a token of another project → 401', async () => {
    const other = await fake.firebaseIdToken({}, { projectId: 'another-project-2' });
    await request(bridge.app).get('/v1/me').set('Authorization', `Bearer ${other}`).expect(401);
  });

  it('"Bearer" with no token or a malformed one → 400 invalid_request with a challenge', async () => {
    const valid = await fake.firebaseIdToken();
    for (const header of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer "quoted"', `Bearer ${valid}\u00a0`, `Bearer \t${valid}`]) {
      const res = await request(bridge.app).get('/v1/me').set('Authorization', header);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="firebridge", error="invalid_request"/);
    }
  });

  it('garbage tokens are 401, never 5xx', async () => {
    for (const token of ['abc', 'a.b.c', 'e30.e30.', 'e30.e30.AAAA', `${'A'.repeat(12000)}.a.b`]) {
      const res = await request(bridge.app).get('/v1/me').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
    }
    // Headers over Node's 16 KiB limit never reach the app: 431, still not a 5xx.
    const huge = await request(bridge.app).get('/v1/me').set('Authorization', `Bearer ${'A'.repeat(20000)}.a.b`);
    expect(huge.status).toBe(431);
  });

  it("requireFirebaseAuth protects the owner's own express routes", async () => {
    const app = notTheBridge(express());
    app.get('/orders', requireFirebaseAuth({ verifier: bridge.deps.firebaseVerifier }), (req, res) => {
      res.json({ owner: req.firebaseUser?.uid });
    });
    await request(app).get('/orders').expect(401);
    const token = await fake.firebaseIdToken({ sub: 'owner-7' });
    await request(app).get('/orders').set('Authorization', `Bearer ${token}`).expect(200, { owner: 'owner-7' });
  });

  it("the README's library setup: firebaseVerifier() + requireFirebaseAuth, keys fetched once", async () => {
    const app = notTheBridge(express());
    const before = fake.securetoken.hits;
    const verifier = firebaseVerifier({ projectId: fake.projectId, certsUrl: fake.firebaseCertsUrl });
    app.get('/orders', requireFirebaseAuth({ verifier }), (req, res) => {
      res.json({ owner: req.firebaseUser?.uid, email: req.firebaseUser?.claims.email });
    });
    const token = await fake.firebaseIdToken({ sub: 'lib-user', email: 'lib@example.com' });
    for (let i = 0; i < 3; i++) {
      await request(app).get('/orders').set('Authorization', `Bearer ${token}`).expect(200, { owner: 'lib-user', email: 'lib@example.com' });
    }
    await request(app).get('/orders').set('Authorization', `Bearer ${await fake.firebaseIdToken({}, { projectId: 'another-project-2' })}`).expect(401);
    expect(fake.securetoken.hits - before).toBe(1);
  });

  it('firebaseVerifier() refuses options outside the server\'s bounds', () => {
    expect(() => firebaseVerifier({ projectId: 'Not A Project' })).toThrow(/projectId/);
    expect(() => firebaseVerifier({ projectId: fake.projectId, skewSeconds: 3600 })).toThrow(/skewSeconds/);
    expect(() => firebaseVerifier({ projectId: fake.projectId, skewSeconds: -1 })).toThrow(/skewSeconds/);
    expect(() => firebaseVerifier({ projectId: fake.projectId, skewSeconds: 300 })).not.toThrow();
  });

  it('FirebaseBearerStrategy works with passport', async () => {
    const app = notTheBridge(express());
    passport.use(new FirebaseBearerStrategy({ verifier: bridge.deps.firebaseVerifier }));
    app.use(passport.initialize());
    app.get('/p', passport.authenticate('firebase-bearer', { session: false }), (req, res) => {
      res.json({ uid: (req.user as { uid: string }).uid });
    });
    const token = await fake.firebaseIdToken({ sub: 'passport-user' });
    await request(app).get('/p').set('Authorization', `Bearer ${token}`).expect(200, { uid: 'passport-user' });
    const none = await request(app).get('/p').expect(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="firebridge"');
    const bad = await request(app).get('/p').set('Authorization', 'Bearer a.b.c').expect(401);
    expect(bad.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  it('no token reaches the logs, even for refused requests', async () => {
    const fresh = bridgeFor(fake);
    const token = await fake.firebaseIdToken({ aud: 'wrong' });
    await request(fresh.app).get('/v1/me?x=1').set('Authorization', `Bearer ${token}`).expect(401);
    expect(fresh.logs.text).not.toContain(token);
    expect(fresh.logs.text).not.toContain(token.split('.')[1] as string);
    const line = fresh.logs.entries().find((e) => e.msg === 'request');
    expect(line).toMatchObject({ method: 'GET', path: '/v1/me', status: 401 });
  });
});
