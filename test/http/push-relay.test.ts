import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDependencies } from '../../src/compose/dependencies';
import { ConfigError, type ConfiguredConfig, loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import type { SharedStore } from '../../src/store/store';
import { PUSH_AUTH_FAILURES_PER_MINUTE } from '../../src/http/routes/push';
import { FakeFcm } from '../../testkit/fake-fcm';
import { FakeGoogle, type TestServiceAccount } from '../../testkit/fake-google';
import { FakeIam } from '../../testkit/fake-iam';
import { LogCapture, bridgeFor, configuredEnv, manualClock } from '../../testkit/harness';

const PUSH_TOKEN = randomBytes(32).toString('base64');
const ROUTE = '/v1/push/send';

/** POST /v1/push/send: the relay for backends that cannot do Google's OAuth2, against the fake FCM. */
describe('the push relay', () => {
  let fake: FakeGoogle;
  let iam: FakeIam;
  let fcm: FakeFcm;
  let account: TestServiceAccount;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    iam = await FakeIam.start(fake);
    fcm = await FakeFcm.start(iam, fake.projectId);
    account = fake.createServiceAccount();
    iam.addKey(account.clientEmail, account.key);
  });
  afterAll(async () => {
    await Promise.all([fcm.close(), iam.close(), fake.close()]);
  });
  beforeEach(() => {
    fcm.requests.length = 0;
    fcm.accepted.length = 0;
    fcm.faults.length = 0;
  });

  const bridge = (env: Record<string, string> = {}) =>
    bridgeFor(fake, {
      account,
      clock: manualClock(),
      env: { PUSH_API_TOKEN: PUSH_TOKEN, GOOGLE_TOKEN_URL: iam.tokenUrl, FCM_API_URL: fcm.url, FCM_TIMEOUT_MS: '3000', ...env },
    });
  const message = { token: 'device-abc', notification: { title: 'T', body: 'B' }, data: { code: '123456' } };
  const send = (app: ReturnType<typeof bridge>['app'], body: unknown, token = PUSH_TOKEN) =>
    request(app).post(ROUTE).set('Authorization', `Bearer ${token}`).send(body as object);

  it('is off (404) unless PUSH_API_TOKEN is set', async () => {
    const { app } = bridgeFor(fake, { account, env: { GOOGLE_TOKEN_URL: iam.tokenUrl, FCM_API_URL: fcm.url } });
    await request(app).post(ROUTE).set('Authorization', `Bearer ${PUSH_TOKEN}`).send({ message }).expect(404);
    expect(fcm.requests).toHaveLength(0);
  });

  it('relay auth: a missing credential is 401 with a bare challenge, a wrong one 401 invalid_token; neither reaches FCM', async () => {
    const { app, logs } = bridge();
    const missing = await request(app).post(ROUTE).send({ message });
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="firebridge-push"');
    const wrong = await send(app, { message }, randomBytes(32).toString('base64'));
    expect([wrong.status, wrong.body.error]).toEqual([401, 'invalid_token']);
    expect(wrong.headers['www-authenticate']).toMatch(/^Bearer realm="firebridge-push", error="invalid_token"/);
    // A credential that differs only in its last character is just as wrong (a character other than the real one:
    // the last character of 32 bytes in base64 is one of 16, so a fixed 'A' was the token itself one time in 16).
    const last = PUSH_TOKEN.slice(-2, -1);
    const almost = await send(app, { message }, `${PUSH_TOKEN.slice(0, -2)}${last === 'A' ? 'E' : 'A'}=`);
    expect(almost.status).toBe(401);
    expect(fcm.requests).toHaveLength(0);
    expect(logs.text).not.toContain(PUSH_TOKEN);
  });

  it('the right PUSH_API_TOKEN: 200 {name}, the message passed through unchanged; validateOnly is FCM\'s validate_only', async () => {
    const { app, logs } = bridge();
    const res = await send(app, { message }).expect(200);
    expect(res.body).toEqual({ name: expect.stringMatching(new RegExp(`^projects/${fake.projectId}/messages/`)) });
    expect(fcm.requests[0]?.body).toEqual({ message });
    const dry = await send(app, { message, validateOnly: true }).expect(200);
    expect(dry.body.name).toBe(`projects/${fake.projectId}/messages/fake_message_id`);
    expect(fcm.requests[1]?.body).toEqual({ message, validate_only: true });
    expect(fcm.accepted.map((a) => a.validateOnly)).toEqual([false, true]);
    expect(logs.text).not.toContain('device-abc');
    expect(logs.text).not.toContain('123456');
  });

  it('a malformed message is 400 invalid_request naming the field, and never sent', async () => {
    const { app } = bridge();
    const cases: Array<[unknown, RegExp]> = [
      [{}, /"message" must be an FCM v1 Message object/],
      [{ message: { notification: { title: 'x' } } }, /exactly one of "token", "topic", "condition" \(found none\)/],
      [{ message: { token: 'a', topic: 'b' } }, /found token, topic/],
      [{ message: { token: 'a', data: { n: 1 } } }, /"message.data.n" must be a string/],
      [{ message: { token: 'a', notification: 'hi' } }, /"message.notification" must be an object/],
      [{ message: { token: 'a', android: { priority: 'max' } } }, /"message.android.priority"/],
      [{ message: { token: 'a', apns: { headers: { 'apns-priority': 10 } } } }, /"message.apns.headers.apns-priority" must be a string/],
      [{ message: { token: 'a', webpush: [] } }, /"message.webpush" must be an object/],
      [{ message: { topic: 'bad topic!' } }, /"message.topic"/],
      [{ message: { token: 'a', sound: 'x' } }, /"message.sound" is not a field/],
      [{ message, validateOnly: 'yes' }, /"validateOnly" must be a boolean/],
      [{ message, validate_only: true }, /"validate_only" is not a field of a push request/],
    ];
    for (const [body, description] of cases) {
      const res = await send(app, body);
      expect({ body, status: res.status, error: res.body.error }).toEqual({ body, status: 400, error: 'invalid_request' });
      expect(res.body.error_description).toMatch(description);
    }
    expect(fcm.requests).toHaveLength(0);
  });

  it('the body limit applies (413)', async () => {
    const { app } = bridge({ MAX_BODY_BYTES: '1024' });
    const res = await send(app, { message: { token: 'a', data: { big: 'x'.repeat(2000) } } });
    expect(res.status).toBe(413);
    expect(fcm.requests).toHaveLength(0);
  });

  it('UNREGISTERED is 404 {"error":"unregistered"} so the caller deletes the token', async () => {
    fcm.faults.push('UNREGISTERED');
    const res = await send(bridge().app, { message });
    expect([res.status, res.body.error]).toEqual([404, 'unregistered']);
  });

  it('INVALID_ARGUMENT and SENDER_ID_MISMATCH are 400 with their error value', async () => {
    const { app } = bridge();
    fcm.faults.push('INVALID_ARGUMENT');
    const bad = await send(app, { message });
    expect([bad.status, bad.body.error]).toEqual([400, 'invalid_argument']);
    expect(bad.body.error_description).toEqual(expect.any(String));
    fcm.faults.push('SENDER_ID_MISMATCH');
    const other = await send(app, { message });
    expect([other.status, other.body.error]).toEqual([400, 'sender_id_mismatch']);
  });

  it('quota exhausted after retries is 429 with FCM\'s Retry-After', async () => {
    const { app } = bridge({ FCM_MAX_RETRIES: '0' });
    fcm.faults.push({ status: 429, retryAfter: '42' });
    const res = await send(app, { message });
    expect([res.status, res.body.error, res.headers['retry-after']]).toEqual([429, 'quota_exceeded', '42']);
    expect(fcm.requests).toHaveLength(1);
  });

  it('FCM down after every retry, and THIRD_PARTY_AUTH_ERROR, are 502 {"error":"fcm_unavailable"}; the latter logged as an error', async () => {
    const { app, logs } = bridge({ FCM_MAX_RETRIES: '1' });
    fcm.faults.push({ status: 503 }, { status: 503 });
    const down = await send(app, { message });
    expect([down.status, down.body.error]).toEqual([502, 'fcm_unavailable']);
    expect(fcm.requests).toHaveLength(2);
    fcm.faults.push('THIRD_PARTY_AUTH_ERROR');
    const apns = await send(app, { message });
    expect([apns.status, apns.body.error]).toEqual([502, 'fcm_unavailable']);
    expect(fcm.requests).toHaveLength(3);
    expect(logs.entries().some((e) => e.level === 50 && /APNs or web-push/.test(String(e.msg)))).toBe(true);
  });

  it(`failed authentications are throttled per IP: past ${PUSH_AUTH_FAILURES_PER_MINUTE} a minute, 429 even for the right token`, async () => {
    const { app } = bridge({ TRUST_PROXY: 'loopback' });
    const from = (ip: string, token: string) =>
      request(app).post(ROUTE).set('X-Forwarded-For', ip).set('Authorization', `Bearer ${token}`).send({ message });
    for (let i = 0; i < PUSH_AUTH_FAILURES_PER_MINUTE; i++) expect((await from('198.51.100.9', `guess${i}${'q'.repeat(40)}`)).status).toBe(401);
    const throttled = await from('198.51.100.9', PUSH_TOKEN);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    expect((await from('203.0.113.5', PUSH_TOKEN)).status).toBe(200);
  });

  it('if the shared store cannot count failed authentications, the relay is 503, never unthrottled', async () => {
    const { config, deps } = bridge();
    const broken: SharedStore = { ...deps.store, hit: () => Promise.reject(new Error('store down')) };
    const res = await send(createApp(config, { ...deps, store: broken }), { message });
    expect([res.status, res.body.error]).toEqual([503, 'temporarily_unavailable']);
    expect(fcm.requests).toHaveLength(0);
  });

  it('keyless (no key file, SERVICE_ACCOUNT_EMAIL and ADC): the relay sends with ADC\'s token for the firebase.messaging scope', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'firebridge-keyless-push-'));
    const credentials = path.join(dir, 'adc.json');
    writeFileSync(credentials, JSON.stringify(account.json), { mode: 0o600 });
    const config = loadConfig(
      configuredEnv(fake, path.join(dir, 'empty-keys'), {
        SERVICE_ACCOUNT_EMAIL: account.clientEmail,
        GOOGLE_APPLICATION_CREDENTIALS: credentials,
        GOOGLE_TOKEN_URL: iam.tokenUrl,
        FCM_API_URL: fcm.url,
        PUSH_API_TOKEN: PUSH_TOKEN,
      }),
    ) as ConfiguredConfig;
    const deps = createDependencies(config, { logger: createLogger('silent', new LogCapture()), clock: Date.now, fetch: globalThis.fetch });
    expect(deps.signing?.mode).toBe('keyless');
    const res = await send(createApp(config, deps), { message }).expect(200);
    expect(res.body.name).toMatch(/^projects\//);
    const bearer = (fcm.requests[0]?.authorization ?? '').replace('Bearer ', '');
    expect(iam.tokenScopes.get(bearer)).toBe('https://www.googleapis.com/auth/firebase.messaging');
  });

  it('GET is 405 with Allow: POST', async () => {
    const res = await request(bridge().app).get(ROUTE);
    expect([res.status, res.headers.allow]).toEqual([405, 'POST']);
  });

  it('PUSH_API_TOKEN: shorter than 32 characters, guessable, or equal to ADMIN_API_TOKEN is refused at start, naming it', () => {
    const base = { FIREBASE_PROJECT_ID: 'my-app-12345', GOOGLE_CLIENT_IDS: 'a' };
    const problem = (env: Record<string, string>): string | undefined => {
      try {
        loadConfig({ ...base, ...env });
        return undefined;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        expect(err.setting).toBe('PUSH_API_TOKEN');
        return err.message;
      }
    };
    expect(problem({ PUSH_API_TOKEN: 'short-secret' })).toMatch(/^PUSH_API_TOKEN: must be at least 32 characters/);
    expect(problem({ PUSH_API_TOKEN: 'ab'.repeat(20) })).toMatch(/^PUSH_API_TOKEN: is a 2-character pattern repeated/);
    expect(problem({ PUSH_API_TOKEN: `${'x'.repeat(31)}!!` })).toMatch(/may contain only/);
    expect(problem({ PUSH_API_TOKEN: PUSH_TOKEN, ADMIN_API_TOKEN: PUSH_TOKEN })).toMatch(/must differ from ADMIN_API_TOKEN/);
    expect(problem({ PUSH_API_TOKEN: PUSH_TOKEN })).toBeUndefined();
  });
});
