import { readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { jwtVerify } from 'jose';
import request from 'supertest';
import { INVALID_CODE_DESCRIPTION } from '../../src/auth/device-codes';
import type { PushFailureReason } from '../../src/errors';
import { FakeGoogle, IDENTITY_TOOLKIT_AUDIENCE, type TestServiceAccount } from '../../testkit/fake-google';
import { type TestBridge, bridgeFor, manualClock } from '../../testkit/harness';
import { RecordingPush } from '../../testkit/recording-push';

/** A plausible FCM registration token, different every call. */
function fcmToken(): string {
  return `${randomBytes(8).toString('base64url')}:APA91b${randomBytes(100).toString('base64url')}`;
}

function deviceUid(token: string): string {
  return `device:${createHash('sha256').update(token).digest('base64url')}`;
}

/** Another 6-digit code than `code`. */
function wrong(code: string, offset = 1): string {
  return ((Number(code) + offset) % 1_000_000).toString().padStart(6, '0');
}

describe('device sign-in with a pushed one-time code', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  function bridge(env: Record<string, string> = {}, options: { clock?: ReturnType<typeof manualClock>; account?: TestServiceAccount } = {}) {
    const push = new RecordingPush();
    const b = bridgeFor(fake, { env: { DEVICE_SIGN_IN: 'true', RATE_LIMIT_DEVICE_IP_PER_MINUTE: '0', ...env }, push, ...options });
    return { ...b, push };
  }

  function challenge(b: TestBridge, token: string, auth?: string) {
    const req = request(b.app).post('/v1/device/challenge');
    if (auth) req.set('Authorization', `Bearer ${auth}`);
    return req.send({ fcmToken: token });
  }

  function verify(b: TestBridge, challengeId: string, code: string, auth?: string) {
    const req = request(b.app).post('/v1/device/verify');
    if (auth) req.set('Authorization', `Bearer ${auth}`);
    return req.send({ challengeId, code });
  }

  /** A challenge answered 202, and the code the device received. */
  async function challenged(b: TestBridge & { push: RecordingPush }, token = fcmToken(), auth?: string) {
    const res = await challenge(b, token, auth);
    expect(res.status).toBe(202);
    const message = b.push.lastTo(token);
    expect(message.data.challengeId).toBe(res.body.challengeId);
    return { token, challengeId: res.body.challengeId as string, code: message.data.code as string };
  }

  it('device sign-ins are in the audit trail: the uid and IP on success, the reason on a refusal; never the code or the FCM token', async () => {
    const b = bridge();
    const { token, challengeId, code } = await challenged(b);
    await verify(b, challengeId, wrong(code)).expect(401);
    const ok = await verify(b, challengeId, code).expect(200);
    expect(await b.deps.audit.flush()).toBe(true);
    const text = readFileSync(b.config.audit.file, 'utf8');
    const signIns = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'device.sign_in');
    expect(signIns.map(({ outcome, reason, uid }) => ({ outcome, reason, uid }))).toEqual([
      { outcome: 'refused', reason: 'ERR_DEVICE_CODE_INVALID', uid: undefined },
      { outcome: 'ok', reason: undefined, uid: deviceUid(token) },
    ]);
    expect(signIns[1]?.ip).toEqual(expect.any(String));
    for (const secret of [token, `"${code}"`, ok.body.customToken as string]) expect(text).not.toContain(secret);
  });

  it('the code arrives in the message and nowhere else; verify once → a custom token for device:<sha256(fcmToken)> with device_verified', async () => {
    const account = fake.createServiceAccount();
    const b = bridge({}, { account });
    const token = fcmToken();
    const res = await challenge(b, token).expect(202);
    expect(Object.keys(res.body).sort()).toEqual(['challengeId', 'expiresIn']);
    expect(res.body.expiresIn).toBe(300);
    expect(b.push.messages).toHaveLength(1);
    const message = b.push.lastTo(token);
    const code = message.data.code as string;
    expect(code).toMatch(/^[0-9]{6}$/);
    expect(message).toEqual({
      token,
      data: { type: 'firebridge.device_code', code, challengeId: res.body.challengeId },
      android: { priority: 'high', ttl: '300s' },
      apns: {
        headers: { 'apns-priority': '5', 'apns-push-type': 'background', 'apns-expiration': expect.stringMatching(/^\d+$/) },
        payload: { aps: { 'content-available': 1 } },
      },
    });
    const expiration = Number((message.apns as { headers: Record<string, string> }).headers['apns-expiration']);
    expect(Math.abs(expiration - (Math.floor(Date.now() / 1000) + 300))).toBeLessThanOrEqual(2);
    // Not in the reply (body or headers), not in a log line.
    expect(JSON.stringify(res.body) + JSON.stringify(res.headers)).not.toContain(code);

    const ok = await verify(b, res.body.challengeId, code).expect(200);
    expect(Object.keys(ok.body).sort()).toEqual(['customToken', 'expiresIn', 'uid']);
    expect(ok.body.uid).toBe(deviceUid(token));
    expect(ok.body.expiresIn).toBe(3600);
    const { payload } = await jwtVerify(ok.body.customToken as string, account.key.publicKey, { audience: IDENTITY_TOOLKIT_AUDIENCE });
    expect(payload.uid).toBe(deviceUid(token));
    expect(payload.claims).toEqual({ device_verified: true });
    // Firebase takes it: the session's ID tokens carry the claim.
    const signIn = await fetch(fake.signInWithCustomTokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: ok.body.customToken, returnSecureToken: true }),
    });
    expect(signIn.status).toBe(200);
    const { idToken } = (await signIn.json()) as { idToken: string };
    const me = await request(b.app).get('/v1/me').set('Authorization', `Bearer ${idToken}`).expect(200);
    expect(me.body).toMatchObject({ uid: deviceUid(token), claims: { device_verified: true } });

    // A replayed success is refused.
    const again = await verify(b, res.body.challengeId, code).expect(401);
    expect(again.body).toEqual({ error: 'invalid_grant', error_description: INVALID_CODE_DESCRIPTION });
    expect(b.logs.text).not.toContain(code);
    expect(b.logs.text).not.toContain(token);
    expect(b.logs.text).not.toContain(ok.body.customToken);
  });

  it('codes are six digits, different per challenge; the uid is the same for one install and differs between installs', async () => {
    const b = bridge({ RATE_LIMIT_DEVICE_PER_MINUTE: '0' });
    const token = fcmToken();
    const codes = new Set<string>();
    const uids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const c = await challenged(b, token);
      codes.add(c.code);
      uids.add((await verify(b, c.challengeId, c.code).expect(200)).body.uid as string);
    }
    expect(codes.size).toBeGreaterThan(1);
    expect([...uids]).toEqual([deviceUid(token)]);
    const other = await challenged(b);
    expect((await verify(b, other.challengeId, other.code).expect(200)).body.uid).not.toBe(deviceUid(token));
  });

  it('wrong codes are refused with one description; DEVICE_CODE_MAX_ATTEMPTS wrong codes burn the challenge', async () => {
    const b = bridge({ DEVICE_CODE_MAX_ATTEMPTS: '3' });
    const c = await challenged(b);
    for (let i = 1; i <= 2; i++) {
      const res = await verify(b, c.challengeId, wrong(c.code, i)).expect(401);
      expect(res.body).toEqual({ error: 'invalid_grant', error_description: INVALID_CODE_DESCRIPTION });
    }
    // Two wrong of three: the right code still works.
    await verify(b, c.challengeId, c.code).expect(200);

    const d = await challenged(b);
    for (let i = 1; i <= 3; i++) await verify(b, d.challengeId, wrong(d.code, i)).expect(401);
    // The attempt after the last allowed: burnt, even with the right code.
    const burnt = await verify(b, d.challengeId, d.code).expect(401);
    expect(burnt.body).toEqual({ error: 'invalid_grant', error_description: INVALID_CODE_DESCRIPTION });
    // Unknown challenge: the same answer.
    const unknown = await verify(b, randomBytes(16).toString('base64url'), '123456').expect(401);
    expect(unknown.body).toEqual(burnt.body);
  });

  it('concurrent guesses are bounded too: many at once burn the challenge; concurrent right codes succeed once', async () => {
    const b = bridge();
    const c = await challenged(b);
    const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) => verify(b, c.challengeId, wrong(c.code, i + 1))));
    expect(guesses.every((res) => res.status === 401)).toBe(true);
    await verify(b, c.challengeId, c.code).expect(401);

    const d = await challenged(b);
    const rights = await Promise.all(Array.from({ length: 4 }, () => verify(b, d.challengeId, d.code)));
    expect(rights.map((res) => res.status).sort()).toEqual([200, 401, 401, 401]);
  });

  it('an expired code is refused (DEVICE_CODE_TTL_SECONDS)', async () => {
    const clock = manualClock();
    const b = bridge({ DEVICE_CODE_TTL_SECONDS: '60' }, { clock });
    const c = await challenged(b);
    expect(b.push.lastTo(c.token).android).toEqual({ priority: 'high', ttl: '60s' });
    clock.advance(59_000);
    const d = await challenged(b);
    clock.advance(1_500);
    const expired = await verify(b, c.challengeId, c.code).expect(401);
    expect(expired.body.error_description).toBe(INVALID_CODE_DESCRIPTION);
    await verify(b, d.challengeId, d.code).expect(200);
  });

  it('one live challenge per device token: a new request replaces the old', async () => {
    const b = bridge();
    const token = fcmToken();
    const first = await challenged(b, token);
    const second = await challenged(b, token);
    await verify(b, first.challengeId, first.code).expect(401);
    await verify(b, second.challengeId, second.code).expect(200);
  });

  it('with a Firebase ID token the uid is that user\'s, and the challenge must have been requested by the same user', async () => {
    const b = bridge();
    const alice = await fake.firebaseIdToken({ sub: 'alice' });
    const bob = await fake.firebaseIdToken({ sub: 'bob' });
    const c = await challenged(b, fcmToken(), alice);
    await verify(b, c.challengeId, c.code).expect(401); // without a token
    await verify(b, c.challengeId, c.code, bob).expect(401); // another user
    const ok = await verify(b, c.challengeId, c.code, alice).expect(200);
    expect(ok.body.uid).toBe('alice');
    // Requested without a token: cannot be verified with one.
    const anonymous = await challenged(b);
    await verify(b, anonymous.challengeId, anonymous.code, alice).expect(401);
    await verify(b, anonymous.challengeId, anonymous.code).expect(200);
    // A bad token is refused RFC 6750 style, before anything is sent.
    const sent = b.push.messages.length;
    const bad = await challenge(b, fcmToken(), 'not-a-jwt').expect(401);
    expect(bad.body.error).toBe('invalid_token');
    expect(bad.headers['www-authenticate']).toMatch(/^Bearer realm="firebridge", error="invalid_token"/);
    expect(b.push.messages.length).toBe(sent);
  });

  it('DEVICE_CODE_NOTIFICATION=true: a notification with DEVICE_CODE_TITLE / DEVICE_CODE_BODY ({code} replaced), an APNs alert at priority 10', async () => {
    const b = bridge({ DEVICE_CODE_NOTIFICATION: 'true', DEVICE_CODE_TITLE: 'Code for {code}', DEVICE_CODE_BODY: 'Enter {code} ({code})' });
    const c = await challenged(b);
    const message = b.push.lastTo(c.token);
    expect(message.notification).toEqual({ title: `Code for ${c.code}`, body: `Enter ${c.code} (${c.code})` });
    expect(message.apns).toMatchObject({ headers: { 'apns-priority': '10', 'apns-push-type': 'alert' } });
    expect(message.data).toEqual({ type: 'firebridge.device_code', code: c.code, challengeId: c.challengeId });
    expect(message.android).toEqual({ priority: 'high', ttl: '300s' });
  });

  it.each<[PushFailureReason, number, string, number | undefined]>([
    ['unregistered', 404, 'unregistered', undefined],
    ['invalid_argument', 400, 'invalid_request', undefined],
    ['sender_id_mismatch', 400, 'invalid_request', undefined],
    ['quota_exceeded', 429, 'too_many_requests', 17],
    ['unavailable', 503, 'temporarily_unavailable', undefined],
    ['third_party_auth_error', 503, 'temporarily_unavailable', undefined],
  ])('FCM %s → %i %s', async (reason, status, error, retryAfter) => {
    const b = bridge();
    b.push.failWith(reason, retryAfter);
    const res = await challenge(b, fcmToken()).expect(status);
    expect(res.body.error).toBe(error);
    if (status === 429) expect(res.headers['retry-after']).toBe('17');
    if (status === 503) expect(res.headers['retry-after']).toBeDefined();
    expect(b.push.messages).toHaveLength(0);
  });

  it('FCM quota without a retry time → 429 with Retry-After 60', async () => {
    const b = bridge();
    b.push.failWith('quota_exceeded');
    const res = await challenge(b, fcmToken()).expect(429);
    expect(res.headers['retry-after']).toBe('60');
  });

  it('400 invalid_request for a missing or malformed fcmToken, challengeId or code', async () => {
    const b = bridge();
    const post = (path: string, body: unknown) => request(b.app).post(path).send(body as object);
    for (const body of [{}, { fcmToken: 12 }, { fcmToken: '' }, { fcmToken: 'has spaces in it' }, { fcmToken: 'x'.repeat(4097) }, []]) {
      const res = await post('/v1/device/challenge', body).expect(400);
      expect(res.body.error).toBe('invalid_request');
    }
    const id = randomBytes(16).toString('base64url');
    for (const body of [{ code: '123456' }, { challengeId: id }, { challengeId: 'short', code: '123456' }, { challengeId: id, code: 123456 },
      { challengeId: id, code: '12345' }, { challengeId: id, code: '1234567' }, { challengeId: id, code: '12345a' }]) {
      const res = await post('/v1/device/verify', body).expect(400);
      expect(res.body.error).toBe('invalid_request');
    }
    expect(b.push.messages).toHaveLength(0);
    await request(b.app).get('/v1/device/challenge').expect(405).expect('Allow', 'POST');
    await request(b.app).get('/v1/device/verify').expect(405).expect('Allow', 'POST');
  });

  it('RATE_LIMIT_DEVICE_PER_MINUTE limits challenges per device token (429 + Retry-After); other devices are not affected', async () => {
    const b = bridge({ RATE_LIMIT_DEVICE_PER_MINUTE: '2' });
    const token = fcmToken();
    await challenge(b, token).expect(202);
    await challenge(b, token).expect(202);
    const limited = await challenge(b, token).expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(b.push.messages).toHaveLength(2);
    await challenge(b, fcmToken()).expect(202);
  });

  it('RATE_LIMIT_DEVICE_IP_PER_MINUTE limits challenges and verifies per client IP together', async () => {
    const b = bridge({ RATE_LIMIT_DEVICE_IP_PER_MINUTE: '3' });
    const c = await challenged(b);
    await verify(b, c.challengeId, wrong(c.code)).expect(401);
    await challenge(b, fcmToken()).expect(202);
    const limited = await verify(b, c.challengeId, c.code).expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await challenge(b, fcmToken()).expect(429);
  });

  it('without DEVICE_SIGN_IN=true the device routes are not mounted (off by default in configured mode)', async () => {
    const b = bridgeFor(fake, { push: new RecordingPush() });
    await request(b.app).post('/v1/device/challenge').send({ fcmToken: fcmToken() }).expect(404);
  });
});
