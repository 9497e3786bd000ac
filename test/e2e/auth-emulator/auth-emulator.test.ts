/**
 * The bridge against the official Firebase Auth Emulator (firebase-tools, run offline with a demo-
 * project), with FIREBASE_AUTH_EMULATOR_HOST set as firebase-admin reads it. firebase-tools lives in
 * this folder's own package.json (not the project's); without it installed, these tests are skipped.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { type RunningAuthEmulator, AUTH_EMULATOR_INSTALL, firebaseToolsBinary, startAuthEmulator } from '../../../testkit/auth-emulator';
import { FakeGoogle } from '../../../testkit/fake-google';
import { bridgeFor } from '../../../testkit/harness';

const INSTALLED = firebaseToolsBinary() !== undefined;
if (!INSTALLED) {
  console.log(`skipped: Firebase Auth Emulator tests (firebase-tools is not installed; install it with ${AUTH_EMULATOR_INSTALL})`);
}

const PROJECT = 'demo-firebridge-emu';
const ADMIN_TOKEN = randomBytes(32).toString('base64url');
const UNSIGNED_REFUSAL = 'this is an unsigned Auth Emulator token; set FIREBASE_AUTH_EMULATOR_HOST for local development';

function jwtPart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
}

(INSTALLED ? describe : describe.skip)('the official Firebase Auth Emulator (firebase-tools)', () => {
  let fake: FakeGoogle;
  let emulator: RunningAuthEmulator;

  beforeAll(async () => {
    fake = await FakeGoogle.start();
    emulator = await startAuthEmulator(PROJECT);
  }, 180_000);
  afterAll(async () => {
    await emulator?.stop();
    await fake?.close();
  }, 30_000);

  const emulatorBridge = (env: Record<string, string> = {}, clock?: () => number) =>
    bridgeFor(fake, { env: { FIREBASE_PROJECT_ID: PROJECT, FIREBASE_AUTH_EMULATOR_HOST: emulator.host, ...env }, clock });

  /** Google ID token in, the bridge's custom token out, signed in at the emulator: its ID token. */
  async function signInThroughTheBridge(app: ReturnType<typeof emulatorBridge>['app'], sub: string): Promise<{ customToken: string; idToken: string }> {
    const exchange = await request(app).post('/v1/token/google').send({ idToken: await fake.googleIdToken({ sub }) });
    expect(exchange.status).toBe(200);
    const customToken = exchange.body.customToken as string;
    const signIn = await emulator.signInWithCustomToken(customToken);
    expect(signIn.status).toBe(200);
    return { customToken, idToken: signIn.body.idToken as string };
  }

  it('a custom token minted by the bridge signs in at the emulator (unsigned, as firebase-admin mints them for it)', async () => {
    const { app, logs } = emulatorBridge();
    const { customToken, idToken } = await signInThroughTheBridge(app, '110000000000000000001');
    expect(jwtPart(customToken, 0)).toEqual({ alg: 'none', typ: 'JWT' });
    expect(customToken.endsWith('.')).toBe(true);
    const claims = jwtPart(idToken, 1);
    expect(claims).toMatchObject({ aud: PROJECT, iss: `https://securetoken.google.com/${PROJECT}`, sub: 'google:110000000000000000001' });
    expect((claims.firebase as Record<string, unknown>).sign_in_provider).toBe('custom');
    // Said once, at start.
    expect(logs.lines.filter((line) => line.includes('WITHOUT a signature check'))).toHaveLength(1);
    expect(logs.text).not.toContain(idToken);
  });

  it("the emulator's ID token passes /v1/me with FIREBASE_AUTH_EMULATOR_HOST set, and fails without it", async () => {
    const { app } = emulatorBridge();
    const { idToken } = await signInThroughTheBridge(app, '110000000000000000002');
    const me = await request(app).get('/v1/me').set('Authorization', `Bearer ${idToken}`);
    expect(me.status).toBe(200);
    expect(me.body.uid).toBe('google:110000000000000000002');
    expect(me.body.claims.aud).toBe(PROJECT);

    // Without the variable (a demo- project is then refused at start, so the bridge has a real one).
    const { app: plain } = bridgeFor(fake);
    const refused = await request(plain).get('/v1/me').set('Authorization', `Bearer ${idToken}`);
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: 'invalid_token', error_description: UNSIGNED_REFUSAL });
  });

  it('known difference: the emulator replaces email / email_verified of a custom-token user with its (empty) record', async () => {
    const { app } = emulatorBridge();
    const { customToken, idToken } = await signInThroughTheBridge(app, '110000000000000000003');
    // The bridge puts them in the custom token (production Firebase keeps them in the ID token)...
    expect((jwtPart(customToken, 1).claims as Record<string, unknown>).email).toBe('ada@example.com');
    // ...the emulator's ID token does not carry them.
    const claims = jwtPart(idToken, 1);
    expect(claims.email).toBeUndefined();
    expect(claims.email_verified).toBeUndefined();
    // The other developer claims come through, as in production.
    expect(claims).toMatchObject({ google_sub: '110000000000000000003', name: 'Ada Lovelace', picture: 'https://lh3.googleusercontent.com/a/photo' });
  });

  it('CHECK_REVOKED and admin revoke talk to the emulator (its Identity Toolkit, bearer owner)', async () => {
    // The bridge's clock runs 5 s ahead (within CLOCK_SKEW_SECONDS), so the revoke's validSince is
    // after the token's auth_time without waiting for the next second.
    const { app } = emulatorBridge({ CHECK_REVOKED: 'true', REVOCATION_CACHE_SECONDS: '0', ADMIN_API_TOKEN: ADMIN_TOKEN }, () => Date.now() + 5000);
    const { idToken } = await signInThroughTheBridge(app, '110000000000000000004');
    const uid = 'google:110000000000000000004';
    expect((await request(app).get('/v1/me').set('Authorization', `Bearer ${idToken}`)).status).toBe(200);

    const revoke = await request(app).post('/v1/admin/revoke').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ uid });
    expect(revoke.status).toBe(200);
    expect(revoke.body).toMatchObject({ uid, revoked: true });
    // The emulator now holds it: its own lookup (bearer owner, as the bridge sends it) says so.
    const lookup = await emulator.call('POST', `/identitytoolkit.googleapis.com/v1/projects/${PROJECT}/accounts:lookup`, { localId: [uid] }, { authorization: 'Bearer owner' });
    expect(lookup.status).toBe(200);
    expect(Number((lookup.body.users as Array<Record<string, unknown>>)[0]?.validSince)).toBe(revoke.body.validSince);

    const revoked = await request(app).get('/v1/me').set('Authorization', `Bearer ${idToken}`);
    expect(revoked.status).toBe(401);
    expect(revoked.body).toEqual({ error: 'invalid_token', error_description: 'the token has been revoked' });

    // A user the emulator no longer has: refused too (the lookup really asks the emulator).
    const other = await signInThroughTheBridge(app, '110000000000000000005');
    expect((await request(app).get('/v1/me').set('Authorization', `Bearer ${other.idToken}`)).status).toBe(200);
    const deleted = await emulator.call('POST', `/identitytoolkit.googleapis.com/v1/projects/${PROJECT}/accounts:delete`, { localId: 'google:110000000000000000005' }, { authorization: 'Bearer owner' });
    expect(deleted.status).toBe(200);
    const gone = await request(app).get('/v1/me').set('Authorization', `Bearer ${other.idToken}`);
    expect(gone.status).toBe(401);
    expect(gone.body.error_description).toBe('the user no longer exists');
  });
});
