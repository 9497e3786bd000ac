import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { ConfigError, loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import { ADMIN_AUTH_FAILURES_PER_MINUTE } from '../../src/http/routes/admin';
import { RedisStore } from '../../src/store/redis-store';
import { FakeGoogle, type TestServiceAccount } from '../../testkit/fake-google';
import { FakeIam } from '../../testkit/fake-iam';
import { FakeIdentityToolkit } from '../../testkit/fake-identity-toolkit';
import { bridgeFor, manualClock } from '../../testkit/harness';
import { type IdentityToolkitFakes, startIdentityToolkitFakes } from '../../testkit/identity-toolkit-fakes';

const ADMIN_TOKEN = randomBytes(32).toString('base64');

describe('the admin API: exact routing, throttled guessing, logged refusals, strong tokens', () => {
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
  beforeEach(() => {
    toolkit.calls.length = 0;
    toolkit.failWith = undefined;
    toolkit.users.clear();
    toolkit.users.set('victim', {});
  });

  function bridge(env: Record<string, string> = {}, clock = manualClock()) {
    const built = bridgeFor(fake, {
      account,
      clock,
      env: { ADMIN_API_TOKEN: ADMIN_TOKEN, IDENTITY_TOOLKIT_URL: toolkit.url, GOOGLE_TOKEN_URL: iam.tokenUrl, ...env },
    });
    return { ...built, clock };
  }

  it('routing is case-sensitive and strict: /V1/ADMIN/REVOKE and /v1/admin/revoke/ do not reach the handler', async () => {
    const { app } = bridge();
    for (const path of ['/V1/ADMIN/REVOKE', '/v1/Admin/revoke', '/v1/admin/revoke/', '/v1/admin/revoke//', '/V1/admin/revoke/']) {
      const res = await request(app).post(path).set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ uid: 'victim' });
      expect({ path, status: res.status, body: res.body }).toEqual({
        path,
        status: 404,
        body: { error: 'not_found', error_description: 'no such route' },
      });
    }
    expect(toolkit.callsTo('update')).toHaveLength(0);
    // The exact path still works (every other route of the app: test/http/routing.test.ts).
    await request(app).post('/v1/admin/revoke').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ uid: 'victim' }).expect(200);
    expect(toolkit.callsTo('update')).toHaveLength(1);
  });

  it('a revoke is in the audit trail (uid, IP, validSince); the admin token is not', async () => {
    const { app, deps, config } = bridge({ TRUST_PROXY: 'loopback' });
    const res = await request(app).post('/v1/admin/revoke').set('X-Forwarded-For', '198.51.100.9').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ uid: 'victim' }).expect(200);
    expect(await deps.audit.flush()).toBe(true);
    const text = readFileSync(config.audit.file, 'utf8');
    const revoke = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.event === 'admin.revoke');
    expect(revoke).toMatchObject({ outcome: 'ok', uid: 'victim', ip: '198.51.100.9', validSince: res.body.validSince });
    expect(text).not.toContain(ADMIN_TOKEN);
  });

  it('200 wrong guesses from one IP: after ADMIN_AUTH_FAILURES_PER_MINUTE, 429 without comparing the credential', async () => {
    const { app, clock } = bridge({ TRUST_PROXY: 'loopback' });
    const from = (ip: string, token: string) =>
      request(app).post('/v1/admin/revoke').set('X-Forwarded-For', ip).set('Authorization', `Bearer ${token}`).send({ uid: 'victim' });
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) {
      const res = await from('198.51.100.7', `guess-${i}-${'g'.repeat(40)}`);
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.body).toEqual({ error: 'too_many_requests', error_description: 'too many failed admin authentications; retry in 60 s' });
        expect(res.headers['retry-after']).toBe('60');
      }
    }
    expect(ADMIN_AUTH_FAILURES_PER_MINUTE).toBe(10);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(190).fill(429));
    // While throttled, even the right credential is not compared: a right guess looks like a wrong one.
    await from('198.51.100.7', ADMIN_TOKEN).expect(429);
    expect(toolkit.callsTo('update')).toHaveLength(0);
    // Another client is not affected.
    await from('198.51.100.8', ADMIN_TOKEN).expect(200);
    // The window passes.
    clock.advance(60_001);
    await from('198.51.100.7', ADMIN_TOKEN).expect(200);
  });

  it('a success clears the count; concurrent guesses cannot slip past it', async () => {
    const { app } = bridge();
    const attempt = (token: string) => request(app).post('/v1/admin/revoke').set('Authorization', `Bearer ${token}`).send({ uid: 'victim' });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < ADMIN_AUTH_FAILURES_PER_MINUTE - 1; i++) await attempt('wrong-token').expect(401);
      await attempt(ADMIN_TOKEN).expect(200);
    }
    // A request with no credentials at all is a failed authentication too.
    await request(app).post('/v1/admin/revoke').send({ uid: 'victim' }).expect(401);

    const fresh = bridge();
    const burst = await Promise.all(
      Array.from({ length: 60 }, () => request(fresh.app).post('/v1/admin/revoke').set('Authorization', 'Bearer wrong-token').send({ uid: 'victim' })),
    );
    expect(burst.filter((r) => r.status === 401)).toHaveLength(ADMIN_AUTH_FAILURES_PER_MINUTE);
    expect(burst.filter((r) => r.status === 429)).toHaveLength(60 - ADMIN_AUTH_FAILURES_PER_MINUTE);
  });

  it('refusals are logged with the client IP and the request ID; the credential never is', async () => {
    const { app, logs } = bridge({ TRUST_PROXY: 'loopback' });
    const refused = await request(app)
      .post('/v1/admin/revoke')
      .set('X-Forwarded-For', '203.0.113.9')
      .set('X-Request-Id', 'req-admin-1')
      .set('Authorization', 'Bearer wrong-but-secret-guess-0123456789')
      .send({ uid: 'victim' })
      .expect(401);
    expect(refused.headers['x-request-id']).toBe('req-admin-1');
    const generated = await request(app).post('/v1/admin/revoke').set('X-Forwarded-For', '203.0.113.9').send({ uid: 'victim' }).expect(401);
    const generatedId = generated.headers['x-request-id'] as string;
    expect(generatedId).toMatch(/^[0-9a-f-]{36}$/);

    const lines = logs.entries().filter((e) => e.msg === 'admin request refused');
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, reqId: 'req-admin-1', ip: '203.0.113.9', route: '/v1/admin/revoke' }),
      expect.objectContaining({ level: 40, reqId: generatedId, ip: '203.0.113.9', route: '/v1/admin/revoke' }),
    ]);
    expect(logs.entries().filter((e) => e.msg === 'request refused').map((e) => e.reqId)).toEqual(['req-admin-1', generatedId]);

    for (let i = 0; i < ADMIN_AUTH_FAILURES_PER_MINUTE; i++) {
      await request(app).post('/v1/admin/revoke').set('X-Forwarded-For', '203.0.113.9').send({ uid: 'victim' });
    }
    const throttled = logs.entries().find((e) => e.msg === 'admin authentication throttled');
    expect(throttled).toMatchObject({ ip: '203.0.113.9', reqId: expect.any(String) });
    expect(logs.text).not.toContain('wrong-but-secret-guess');
    expect(logs.text).not.toContain(ADMIN_TOKEN);
  });

  it('if the shared store cannot count failures, the admin API is 503, never unthrottled', async () => {
    const { config, deps } = bridge();
    const dead = new RedisStore('redis://127.0.0.1:1', 'x:', { commandTimeoutMs: 300 });
    try {
      const app = createApp(config, { ...deps, store: dead });
      const res = await request(app).post('/v1/admin/revoke').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ uid: 'victim' }).expect(503);
      expect(res.body.error).toBe('temporarily_unavailable');
      expect(toolkit.callsTo('update')).toHaveLength(0);
    } finally {
      await dead.close();
    }
  });

  it('ADMIN_API_TOKEN with too little entropy is refused at start', () => {
    const base = { FIREBASE_PROJECT_ID: 'my-app-12345', GOOGLE_CLIENT_IDS: 'a' };
    const problem = (token: string): string | undefined => {
      try {
        loadConfig({ ...base, ADMIN_API_TOKEN: token });
        return undefined;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        expect(err.setting).toBe('ADMIN_API_TOKEN');
        return err.message;
      }
    };
    expect(problem('a'.repeat(44))).toMatch(/^ADMIN_API_TOKEN: is one character repeated/);
    expect(problem('x'.repeat(32))).toMatch(/one character repeated/);
    expect(problem('ab'.repeat(20))).toMatch(/is a 2-character pattern repeated/);
    expect(problem('password'.repeat(4))).toMatch(/is a 8-character pattern repeated/);
    // 38 digits: 38 × log2(10) ≈ 126 bits.
    expect(problem('31415926535897932384626433832795028841')).toMatch(/about 126 bits of entropy .* at least 128 are needed/);
    expect(problem(`${'a'.repeat(39)}b`)).toMatch(/repeats its characters too much \(0\.2 bits/);
    expect(problem('abc'.repeat(13) + 'X')).toMatch(/repeats its characters too much/);
    expect(problem('a'.repeat(44))).toContain('openssl rand -base64 32');
    // What the README recommends, and other random secrets, pass.
    for (let i = 0; i < 50; i++) {
      expect(problem(randomBytes(32).toString('base64'))).toBeUndefined();
      expect(problem(randomBytes(32).toString('hex'))).toBeUndefined();
      expect(problem(randomBytes(24).toString('base64url'))).toBeUndefined();
    }
    expect(problem('admin-secret-0123456789-abcdefghijklmnop')).toBeUndefined();
  });
});
