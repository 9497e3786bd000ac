import request from 'supertest';
import { FirebaseIdTokenVerifier } from '../../src/auth/firebase-id-token-verifier';
import { GOOGLE_ISSUERS, GoogleIdTokenVerifier } from '../../src/auth/google-id-token-verifier';
import { firebaseIssuer } from '../../src/auth/firebase-id-token-verifier';
import { tokenKind } from '../../src/auth/token-kind';
import { FakeGoogle } from '../../testkit/fake-google';
import { WEB_CLIENT_ID, bridgeFor, manualClock } from '../../testkit/harness';
import { type TestKey, generateTestKey } from '../../testkit/keys';
import { b64u, expectInvalidToken, joseToken, staticCache } from '../../testkit/jwt-forge';

const PROJECT = 'fb-test-project';
const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;

const GOOGLE_AS_FIREBASE = 'this is a Google ID token; send a Firebase ID token';
const FIREBASE_AS_GOOGLE = 'this is a Firebase ID token; send a Google ID token';
const EMULATOR_AS_FIREBASE = 'this is an unsigned Auth Emulator token; set FIREBASE_AUTH_EMULATOR_HOST for local development';
const EMULATOR_AS_GOOGLE = 'this is an unsigned Auth Emulator token; send a Google ID token';

const googleClaims = (iss = 'https://accounts.google.com') => ({ iss, aud: WEB_CLIENT_ID, sub: '1101', iat: NOW - 10, exp: NOW + 3590 });
const firebaseClaims = (project = PROJECT) => ({
  iss: firebaseIssuer(project),
  aud: project,
  sub: 'google:1101',
  user_id: 'google:1101',
  auth_time: NOW - 20,
  iat: NOW - 10,
  exp: NOW + 3590,
  firebase: { identities: {}, sign_in_provider: 'custom' },
});
/** What the Firebase Auth Emulator issues: alg none, no signature. */
const emulatorToken = (project = PROJECT) => `${b64u({ alg: 'none', typ: 'JWT' })}.${b64u(firebaseClaims(project))}.`;

describe('a token of the wrong kind is refused with a message that says so', () => {
  let key: TestKey;
  let google: GoogleIdTokenVerifier;
  let firebase: FirebaseIdTokenVerifier;
  beforeAll(() => {
    key = generateTestKey();
    const clock = manualClock(NOW_MS);
    google = new GoogleIdTokenVerifier({ keys: staticCache([key], clock), clientIds: [WEB_CLIENT_ID], skewSeconds: 60, clock });
    firebase = new FirebaseIdTokenVerifier({ keys: staticCache([key], clock), projectId: PROJECT, skewSeconds: 60, clock });
  });

  it.each([...GOOGLE_ISSUERS])('a validly signed Google ID token (iss %s) at the Firebase verifier', async (iss) => {
    const err = await expectInvalidToken(firebase.verify(await joseToken(googleClaims(iss), key)), 'ERR_CLAIM_ISS');
    expect(err.message).toBe(GOOGLE_AS_FIREBASE);
  });

  it('a validly signed Firebase ID token at the Google verifier (of our project or another)', async () => {
    for (const project of [PROJECT, 'another-project-2']) {
      const err = await expectInvalidToken(google.verify(await joseToken(firebaseClaims(project), key)), 'ERR_CLAIM_ISS');
      expect(err.message).toBe(FIREBASE_AS_GOOGLE);
    }
  });

  it('an unsigned Auth Emulator token at either verifier', async () => {
    expect((await expectInvalidToken(firebase.verify(emulatorToken()), 'ERR_JWT_ALG')).message).toBe(EMULATOR_AS_FIREBASE);
    expect((await expectInvalidToken(google.verify(emulatorToken()), 'ERR_JWT_ALG')).message).toBe(EMULATOR_AS_GOOGLE);
  });

  it('the right kind keeps its precise reason; what does not parse, or claims nothing known, keeps the generic one', async () => {
    // A Firebase ID token of another project at the Firebase verifier: its own kind, so the aud check speaks.
    await expectInvalidToken(firebase.verify(await joseToken(firebaseClaims('another-project-2'), key)), 'ERR_CLAIM_AUD');
    // alg none with a Google issuer is not an emulator token: the generic alg refusal.
    const unsignedGoogle = `${b64u({ alg: 'none' })}.${b64u(googleClaims())}.`;
    const err = await expectInvalidToken(google.verify(unsignedGoogle));
    expect(err.message).not.toMatch(/this is/);
    // Unknown issuers, garbage, and tokens that only look right after lenient parsing are not named.
    for (const token of [
      await joseToken({ ...googleClaims(), iss: 'https://evil.example' }, key),
      'not.a.token',
      `${b64u({ alg: 'none' })}.${b64u(firebaseClaims())}.x.y`,
      `${b64u({ alg: 'none' })}=.${b64u(firebaseClaims())}.`, // non-canonical base64url
      `${b64u({ alg: 'none' })}.${b64u({ ...firebaseClaims(), iss: 'https://securetoken.google.com/' })}.`,
    ]) {
      const refused = await expectInvalidToken(firebase.verify(token));
      expect(refused.message).not.toMatch(/^this is/);
    }
    expect(tokenKind('x'.repeat(20_000))).toBeUndefined();
  });

  it('the kinds agree with the issuers the verifiers accept', () => {
    for (const iss of GOOGLE_ISSUERS) expect(tokenKind(`${b64u({ alg: 'RS256' })}.${b64u({ iss })}.c2ln`)).toBe('google');
    expect(tokenKind(`${b64u({ alg: 'RS256' })}.${b64u({ iss: firebaseIssuer(PROJECT) })}.c2ln`)).toBe('firebase');
  });
});

describe('over HTTP: still 401 invalid_token, with the message', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('GET /v1/me with a Google ID token, or an Auth Emulator token', async () => {
    const { app } = bridgeFor(fake);
    const res = await request(app).get('/v1/me').set('Authorization', `Bearer ${await fake.googleIdToken()}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: GOOGLE_AS_FIREBASE });
    expect(res.headers['www-authenticate']).toBe(
      `Bearer realm="firebridge", error="invalid_token", error_description="${GOOGLE_AS_FIREBASE}"`,
    );
    const emulator = await request(app).get('/v1/me').set('Authorization', `Bearer ${emulatorToken(fake.projectId)}`);
    expect(emulator.status).toBe(401);
    expect(emulator.body).toEqual({ error: 'invalid_token', error_description: EMULATOR_AS_FIREBASE });
  });

  it('POST /v1/token/google with a Firebase ID token', async () => {
    const { app } = bridgeFor(fake);
    const res = await request(app).post('/v1/token/google').send({ idToken: await fake.firebaseIdToken() });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: FIREBASE_AS_GOOGLE });
  });
});
