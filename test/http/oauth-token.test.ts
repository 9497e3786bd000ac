import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import request from 'supertest';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor, manualClock } from '../../testkit/harness';
import { rawRsaToken, tamperPayload } from '../../testkit/jwt-forge';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';

/** RFC 8693 token exchange at POST /oauth/token: the same exchange as POST /v1/token/google, in OAuth's dialect. */
describe('POST /oauth/token (RFC 8693 token exchange)', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
  const exchangeForm = (subjectToken: string, extra: Record<string, string> = {}) =>
    form({ grant_type: GRANT, subject_token_type: ID_TOKEN, subject_token: subjectToken, ...extra });
  const post = (app: ReturnType<typeof bridgeFor>['app'], body: string, type = 'application/x-www-form-urlencoded') =>
    request(app).post('/oauth/token').set('Content-Type', type).send(body);

  it('a Google ID token → 200 {access_token: the custom token, issued_token_type jwt, token_type N_A, expires_in 3600}, no-store', async () => {
    const bridge = bridgeFor(fake);
    const res = await post(bridge.app, exchangeForm(await fake.googleIdToken())).expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    expect(Object.keys(res.body).sort()).toEqual(['access_token', 'expires_in', 'issued_token_type', 'token_type']);
    expect(res.body).toMatchObject({ issued_token_type: JWT, token_type: 'N_A', expires_in: 3600 });
    // The custom token POST /v1/token/google mints: signed by the service account, for the uid of the Google sub.
    const claims = decodeJwt(res.body.access_token as string);
    expect(decodeProtectedHeader(res.body.access_token as string).alg).toBe('RS256');
    expect(claims).toMatchObject({
      uid: 'google:110169484474386276334',
      aud: 'https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit',
      iss: expect.stringContaining('@'),
      claims: { email: 'ada@example.com', google_sub: '110169484474386276334' },
    });
    expect(bridge.logs.text).not.toContain(res.body.access_token as string);
  });

  it('the optional requested_token_type=jwt is taken; unrecognized parameters (scope, audience) are ignored', async () => {
    const { app } = bridgeFor(fake);
    await post(app, exchangeForm(await fake.googleIdToken(), { requested_token_type: JWT, scope: 'openid', audience: 'x' })).expect(200);
    const other = await post(app, exchangeForm(await fake.googleIdToken(), { requested_token_type: 'urn:ietf:params:oauth:token-type:access_token' })).expect(400);
    expect(other.body.error).toBe('invalid_request');
    expect(other.body.error_description).toMatch(/requested_token_type/);
  });

  describe('a bad subject token is invalid_request (RFC 8693 §2.2.2), with what failed', () => {
    const refused = async (subjectToken: string, description: RegExp, env: Record<string, string> = {}) => {
      const { app, logs } = bridgeFor(fake, { env });
      const res = await post(app, exchangeForm(subjectToken)).expect(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.error_description).toMatch(/^subject_token: /);
      expect(res.body.error_description).toMatch(description);
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(logs.text).not.toContain(subjectToken);
      return logs;
    };

    it('expired', async () => {
      const now = Math.floor(Date.now() / 1000);
      const logs = await refused(await fake.googleIdToken({ iat: now - 7200, exp: now - 3600 }), /expired/);
      expect(logs.text).toContain('ERR_TOKEN_EXPIRED');
    });

    it('forged: signed by a key Google never published, under a known kid', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const genuine = await fake.googleIdToken();
      const header = decodeProtectedHeader(genuine);
      const forged = rawRsaToken(header, decodeJwt(genuine), privateKey);
      await refused(forged, /signature/);
    });

    it('tampered: a payload changed after signing', async () => {
      await refused(tamperPayload(await fake.googleIdToken(), (p) => (p.sub = '999')), /signature/);
    });

    it('the wrong audience', async () => {
      await refused(await fake.googleIdToken({ aud: 'someone-else.apps.googleusercontent.com' }), /aud/);
    });

    it('a Firebase ID token is not a Google ID token', async () => {
      await refused(await fake.firebaseIdToken(), /./);
    });

    it('not a JWT at all', async () => {
      await refused('not-a-token', /./);
    });

    it('replayed: a token already exchanged (at either door)', async () => {
      const { app } = bridgeFor(fake);
      const token = await fake.googleIdToken();
      await request(app).post('/v1/token/google').send({ idToken: token }).expect(200);
      const res = await post(app, exchangeForm(token)).expect(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.error_description).toMatch(/already/);
    });

    it('an account the sign-in policy does not admit', async () => {
      const logs = await refused(await fake.googleIdToken({ email: 'eve@evil.example' }), /./, { ALLOWED_EMAIL_DOMAINS: 'example.com' });
      expect(logs.text).toContain('ERR_POLICY_EMAIL');
    });

    it('REQUIRE_NONCE: the nonce is the one inside the ID token (POST /v1/nonce), as at POST /v1/token/google', async () => {
      const clock = manualClock();
      const { app } = bridgeFor(fake, { clock, env: { REQUIRE_NONCE: 'true' } });
      const iat = Math.floor(clock() / 1000);
      const missing = await post(app, exchangeForm(await fake.googleIdToken({ iat, exp: iat + 3600 }))).expect(400);
      expect(missing.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/nonce/) });
      const { nonce } = (await request(app).post('/v1/nonce').expect(200)).body as { nonce: string };
      await post(app, exchangeForm(await fake.googleIdToken({ iat, exp: iat + 3600, nonce }))).expect(200);
    });
  });

  describe('malformed requests (RFC 6749 §5.2)', () => {
    it('another grant_type → unsupported_grant_type', async () => {
      const { app } = bridgeFor(fake);
      for (const grant of ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
        const res = await post(app, form({ grant_type: grant, subject_token_type: ID_TOKEN, subject_token: await fake.googleIdToken() })).expect(400);
        expect(res.body).toEqual({ error: 'unsupported_grant_type', error_description: `only "grant_type=${GRANT}" is supported` });
      }
    });

    it('a missing or empty parameter → invalid_request naming it', async () => {
      const { app } = bridgeFor(fake);
      const token = await fake.googleIdToken();
      const full = { grant_type: GRANT, subject_token_type: ID_TOKEN, subject_token: token };
      for (const name of Object.keys(full) as Array<keyof typeof full>) {
        for (const value of [undefined, '']) {
          const fields: Record<string, string> = { ...full };
          if (value === undefined) delete fields[name];
          else fields[name] = value;
          const res = await post(app, form(fields)).expect(400);
          expect(res.body).toEqual({ error: 'invalid_request', error_description: `"${name}" is required` });
        }
      }
    });

    it('a parameter sent twice → invalid_request', async () => {
      const { app } = bridgeFor(fake);
      const token = await fake.googleIdToken();
      for (const body of [
        `${exchangeForm(token)}&subject_token=${token}`,
        `${exchangeForm(token)}&grant_type=${encodeURIComponent(GRANT)}`,
        `${exchangeForm(token)}&subject_token_type=${encodeURIComponent(ID_TOKEN)}`,
      ]) {
        const res = await post(app, body).expect(400);
        expect(res.body.error).toBe('invalid_request');
        expect(res.body.error_description).toMatch(/sent more than once/);
      }
    });

    it('a subject_token_type other than id_token → invalid_request', async () => {
      const { app } = bridgeFor(fake);
      for (const type of [JWT, 'urn:ietf:params:oauth:token-type:access_token', 'id_token']) {
        const res = await post(app, form({ grant_type: GRANT, subject_token_type: type, subject_token: await fake.googleIdToken() })).expect(400);
        expect(res.body.error).toBe('invalid_request');
        expect(res.body.error_description).toMatch(/subject_token_type/);
      }
    });

    it('an actor token (delegation) → invalid_request', async () => {
      const { app } = bridgeFor(fake);
      const res = await post(app, exchangeForm(await fake.googleIdToken(), { actor_token: 'x', actor_token_type: JWT })).expect(400);
      expect(res.body.error_description).toMatch(/actor_token/);
    });

    it('a JSON body (even a well-formed request) → invalid_request; no body at all too', async () => {
      const { app } = bridgeFor(fake);
      const token = await fake.googleIdToken();
      const res = await request(app).post('/oauth/token').send({ grant_type: GRANT, subject_token_type: ID_TOKEN, subject_token: token }).expect(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.error_description).toMatch(/form-encoded/);
      expect((await request(app).post('/oauth/token').expect(400)).body.error).toBe('invalid_request');
      // The token was not spent by the refused request.
      await post(app, exchangeForm(token)).expect(200);
    });

    it('a body over MAX_BODY_BYTES → 413; GET → 405 Allow: POST', async () => {
      const { app } = bridgeFor(fake, { env: { MAX_BODY_BYTES: '1024' } });
      const res = await post(app, exchangeForm('x'.repeat(2000))).expect(413);
      expect(res.body.error).toBe('invalid_request');
      const get = await request(app).get('/oauth/token').expect(405);
      expect(get.headers.allow).toBe('POST');
    });
  });

  it('shares the exchange rate limit with POST /v1/token/google (one budget per client IP)', async () => {
    const clock = manualClock();
    const { app } = bridgeFor(fake, { clock, env: { RATE_LIMIT_EXCHANGE_PER_MINUTE: '2', REPLAY_PROTECTION: 'false' } });
    const token = await fake.googleIdToken();
    await request(app).post('/v1/token/google').send({ idToken: token }).expect(200);
    const second = await post(app, exchangeForm(token)).expect(200);
    expect(second.headers['ratelimit-remaining']).toBe('0');
    const third = await post(app, exchangeForm(token)).expect(429);
    expect(third.body.error).toBe('too_many_requests');
    expect(third.headers['retry-after']).toMatch(/^\d+$/);
    await request(app).post('/v1/token/google').send({ idToken: token }).expect(429);
  });

  it("the README's curl example, as written, exchanges a token", async () => {
    const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
    const block = /```sh\n(curl -s http:\/\/127\.0\.0\.1:8080\/oauth\/token[\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const token = await fake.googleIdToken();
    const fields = new URLSearchParams();
    for (const [, flag, value] of (block as string).matchAll(/(-d|--data-urlencode) "?([^"\s]+)"?/g)) {
      const [name, raw] = (value as string).split(/=(.*)/s) as [string, string];
      // -d sends its value as written (already encoded); --data-urlencode encodes it. Both end up as one form field.
      fields.append(name, flag === '-d' ? decodeURIComponent(raw) : raw.replace('$GOOGLE_ID_TOKEN', token));
    }
    expect([...fields.keys()].sort()).toEqual(['grant_type', 'subject_token', 'subject_token_type']);
    const { app } = bridgeFor(fake);
    const res = await post(app, fields.toString()).expect(200);
    const shown = JSON.parse(/# (\{"access_token".*\})/.exec(block as string)?.[1] ?? '{}') as Record<string, unknown>;
    expect(Object.keys(res.body).sort()).toEqual(Object.keys(shown).sort());
    expect({ ...res.body, access_token: shown.access_token }).toEqual(shown);
  });
});
