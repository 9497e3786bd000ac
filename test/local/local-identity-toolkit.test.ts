import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT, decodeJwt } from 'jose';
import request from 'supertest';
import { createDependencies } from '../../src/compose/dependencies';
import { loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import { LocalAccounts } from '../../src/local/local-accounts';
import { createLogger } from '../../src/logger';
import { LogCapture, manualClock } from '../../testkit/harness';

const ITK = '/identitytoolkit.googleapis.com/v1/accounts';
const SIGN_IN = `${ITK}:signInWithCustomToken?key=fake-api-key`;
const LOOKUP = `${ITK}:lookup?key=anything`;
const UPDATE = `${ITK}:update?key=k`;
const DELETE = `${ITK}:delete?key=k`;
const TOKEN = '/securetoken.googleapis.com/v1/token?key=k';
const START = Date.parse('2026-03-01T12:00:00Z');

function localBridge(stateDir = path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-itk-')), '.local'), env: Record<string, string> = {}) {
  const config = loadConfig({ LOCAL_STATE_DIR: stateDir, KEYS_DIR: path.join(stateDir, '..', 'nokeys'), ...env });
  const clock = manualClock(START);
  const deps = createDependencies(config, { logger: createLogger('silent', new LogCapture()), clock, fetch: globalThis.fetch });
  return { app: createApp(config, deps), deps, clock, stateDir, config };
}

type Bridge = ReturnType<typeof localBridge>;

/** A custom token as the bridge mints it (its minter, with kid). */
function bridgeCustomToken(bridge: Bridge, uid: string, claims: Record<string, unknown> = {}): Promise<string> {
  return bridge.deps.minter.mint(uid, claims).then((minted) => minted.customToken);
}

/** A custom token as firebase-admin's createCustomToken makes it: no kid. */
function adminStyleCustomToken(bridge: Bridge, uid: string, overrides: { kid?: string; aud?: string } = {}): Promise<string> {
  const account = bridge.deps.local!.serviceAccount;
  const now = Math.floor(bridge.clock() / 1000);
  return new SignJWT({
    aud: overrides.aud ?? 'https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit',
    iss: account.clientEmail,
    sub: account.clientEmail,
    uid,
    iat: now,
    exp: now + 3600,
  })
    .setProtectedHeader(overrides.kid === undefined ? { alg: 'RS256', typ: 'JWT' } : { alg: 'RS256', typ: 'JWT', kid: overrides.kid })
    .sign(account.privateKey);
}

function expectEmulatorError(res: request.Response, code: string): void {
  expect(res.status).toBe(400);
  expect(res.body).toEqual({
    error: {
      code: 400,
      message: expect.stringMatching(new RegExp(`^${code} : .+`)),
      errors: [{ message: code, domain: 'global', reason: 'invalid' }],
    },
  });
}

async function signIn(bridge: Bridge, uid = 'user-1', claims: Record<string, unknown> = { role: 'tester' }) {
  const res = await request(bridge.app).post(SIGN_IN).send({ token: await bridgeCustomToken(bridge, uid, claims), returnSecureToken: true });
  expect(res.status).toBe(200);
  return res.body as { idToken: string; refreshToken: string; expiresIn: string; isNewUser: boolean; kind: string };
}

describe("local mode's Identity Toolkit, as the Auth Emulator answers it", () => {
  it('accounts:signInWithCustomToken: {kind, idToken, refreshToken, expiresIn, isNewUser}, with a Firebase ID token of the project', async () => {
    const bridge = localBridge();
    const first = await signIn(bridge, 'ada', { role: 'admin' });
    expect(Object.keys(first).sort()).toEqual(['expiresIn', 'idToken', 'isNewUser', 'kind', 'refreshToken']);
    expect(first).toMatchObject({ kind: 'identitytoolkit#VerifyCustomTokenResponse', expiresIn: '3600', isNewUser: true });
    expect(decodeJwt(first.idToken)).toMatchObject({
      iss: 'https://securetoken.google.com/demo-firebridge',
      aud: 'demo-firebridge',
      sub: 'ada',
      user_id: 'ada',
      role: 'admin',
      auth_time: START / 1000,
      firebase: { sign_in_provider: 'custom' },
    });
    // The bridge's own verifier takes it (GET /v1/me).
    const me = await request(bridge.app).get('/v1/me').set('Authorization', `Bearer ${first.idToken}`).expect(200);
    expect(me.body.uid).toBe('ada');
    expect((await signIn(bridge, 'ada')).isNewUser).toBe(false);
  });

  it('takes a custom token without kid (firebase-admin sends none), refuses a foreign kid, a bad signature, a wrong audience', async () => {
    const bridge = localBridge();
    const ok = await request(bridge.app).post(SIGN_IN).send({ token: await adminStyleCustomToken(bridge, 'no-kid') });
    expect(ok.status).toBe(200);
    expect(decodeJwt(ok.body.idToken).sub).toBe('no-kid');
    const withKid = await request(bridge.app)
      .post(SIGN_IN)
      .send({ token: await adminStyleCustomToken(bridge, 'own-kid', { kid: bridge.deps.local!.serviceAccount.privateKeyId }) });
    expect(withKid.status).toBe(200);

    expectEmulatorError(await request(bridge.app).post(SIGN_IN).send({ token: await adminStyleCustomToken(bridge, 'x', { kid: 'other' }) }), 'INVALID_CUSTOM_TOKEN');
    const [h, p] = (await bridgeCustomToken(bridge, 'x')).split('.');
    expectEmulatorError(
      await request(bridge.app).post(SIGN_IN).send({ token: `${h}.${p}.${Buffer.alloc(256, 7).toString('base64url')}` }),
      'INVALID_CUSTOM_TOKEN',
    );
    expectEmulatorError(await request(bridge.app).post(SIGN_IN).send({ token: await adminStyleCustomToken(bridge, 'x', { aud: 'x' }) }), 'INVALID_CUSTOM_TOKEN');
    expectEmulatorError(await request(bridge.app).post(SIGN_IN).send({ token: 'not-a-jwt' }), 'INVALID_CUSTOM_TOKEN');
    expectEmulatorError(await request(bridge.app).post(SIGN_IN).send({}), 'MISSING_CUSTOM_TOKEN');
    // An expired custom token.
    const token = await bridgeCustomToken(bridge, 'late');
    bridge.clock.advance(3601_000);
    expectEmulatorError(await request(bridge.app).post(SIGN_IN).send({ token }), 'INVALID_CUSTOM_TOKEN');
  });

  it('the paths are exact: no other accounts<anything> path reaches a handler', async () => {
    const { app } = localBridge();
    for (const p of [
      `${ITK}:signInWithCustomTokenX`,
      `${ITK}X:lookup`,
      `${ITK}:lookup/`,
      `${ITK}Anything`,
      `${ITK}:LOOKUP`,
      `${ITK}:signUp`,
      `${ITK}:sendOobCode`,
      `${ITK}:signInWithPassword`,
      '/securetoken.googleapis.com/v1/token/',
    ]) {
      await request(app).post(p).send({ token: 'x', idToken: 'x' }).expect(404);
    }
    await request(app).get(`${ITK}:lookup`).expect(405);
  });

  it('accounts:lookup reports the user; a bad or expired ID token is INVALID_ID_TOKEN / TOKEN_EXPIRED', async () => {
    const bridge = localBridge();
    const session = await signIn(bridge, 'grace');
    bridge.clock.advance(5000);
    const res = await request(bridge.app).post(LOOKUP).send({ idToken: session.idToken }).expect(200);
    expect(res.body).toEqual({
      kind: 'identitytoolkit#GetAccountInfoResponse',
      users: [
        {
          localId: 'grace',
          emailVerified: false,
          providerUserInfo: [],
          validSince: String(START / 1000),
          createdAt: String(START),
          lastLoginAt: String(START),
          lastRefreshAt: new Date(START).toISOString(),
        },
      ],
    });
    expectEmulatorError(await request(bridge.app).post(LOOKUP).send({ idToken: 'x.y.z' }), 'INVALID_ID_TOKEN');
    expectEmulatorError(await request(bridge.app).post(LOOKUP).send({}), 'INVALID_ID_TOKEN');
    // A Google ID token of local mode is signed by another key and for another audience.
    const google = await bridge.deps.local!.mintGoogleIdToken({ email: 'g@example.com' });
    expectEmulatorError(await request(bridge.app).post(LOOKUP).send({ idToken: google }), 'INVALID_ID_TOKEN');
    bridge.clock.advance(3600_000);
    expectEmulatorError(await request(bridge.app).post(LOOKUP).send({ idToken: session.idToken }), 'TOKEN_EXPIRED');
  });

  it('securetoken refresh: form or JSON, a new ID token with the same claims; unknown INVALID_REFRESH_TOKEN', async () => {
    const bridge = localBridge();
    const session = await signIn(bridge, 'alan', { role: 'dev' });
    bridge.clock.advance(2000);
    const form = await request(bridge.app)
      .post(TOKEN)
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: session.refreshToken })
      .expect(200);
    expect(Object.keys(form.body).sort()).toEqual(['access_token', 'expires_in', 'id_token', 'project_id', 'refresh_token', 'token_type', 'user_id']);
    expect(form.body).toMatchObject({ expires_in: '3600', token_type: 'Bearer', refresh_token: session.refreshToken, user_id: 'alan', project_id: 'demo-firebridge' });
    expect(form.body.access_token).toBe(form.body.id_token);
    expect(form.body.id_token).not.toBe(session.idToken);
    expect(decodeJwt(form.body.id_token)).toMatchObject({ sub: 'alan', role: 'dev', iat: START / 1000 + 2, auth_time: START / 1000 });
    const json = await request(bridge.app).post(TOKEN).send({ grant_type: 'refresh_token', refresh_token: session.refreshToken }).expect(200);
    expect(decodeJwt(json.body.id_token).sub).toBe('alan');

    expectEmulatorError(
      await request(bridge.app).post(TOKEN).type('form').send({ grant_type: 'refresh_token', refresh_token: 'never-issued' }),
      'INVALID_REFRESH_TOKEN',
    );
    expectEmulatorError(await request(bridge.app).post(TOKEN).type('form').send({ grant_type: 'refresh_token' }), 'MISSING_REFRESH_TOKEN');
    expectEmulatorError(
      await request(bridge.app).post(TOKEN).type('form').send({ grant_type: 'password', refresh_token: session.refreshToken }),
      'INVALID_GRANT_TYPE',
    );
  });

  it('accounts:update changes displayName and photoUrl (a new ID token carries them); other fields are OPERATION_NOT_ALLOWED', async () => {
    const bridge = localBridge();
    const session = await signIn(bridge, 'linus', { role: 'dev' });
    const res = await request(bridge.app)
      .post(UPDATE)
      .send({ idToken: session.idToken, displayName: 'Linus', photoUrl: 'https://example.com/l.png', returnSecureToken: true })
      .expect(200);
    expect(res.body).toMatchObject({ kind: 'identitytoolkit#SetAccountInfoResponse', localId: 'linus', displayName: 'Linus', photoUrl: 'https://example.com/l.png', expiresIn: '3600' });
    expect(decodeJwt(res.body.idToken)).toMatchObject({ sub: 'linus', name: 'Linus', picture: 'https://example.com/l.png', role: 'dev' });
    const lookup = await request(bridge.app).post(LOOKUP).send({ idToken: res.body.idToken }).expect(200);
    expect(lookup.body.users[0]).toMatchObject({ displayName: 'Linus', photoUrl: 'https://example.com/l.png' });
    // The new refresh token works; the profile is in refreshed tokens too.
    const refreshed = await request(bridge.app).post(TOKEN).type('form').send({ grant_type: 'refresh_token', refresh_token: res.body.refreshToken }).expect(200);
    expect(decodeJwt(refreshed.body.id_token)).toMatchObject({ name: 'Linus', role: 'dev' });

    // null (the SDK's updateProfile({displayName: null})) and deleteAttribute delete.
    const cleared = await request(bridge.app).post(UPDATE).send({ idToken: session.idToken, displayName: null, deleteAttribute: ['PHOTO_URL'] }).expect(200);
    expect(cleared.body.displayName).toBeUndefined();
    expect(cleared.body.photoUrl).toBeUndefined();
    expect(cleared.body.idToken).toBeUndefined();

    for (const body of [{ password: 'secret' }, { email: 'a@example.com' }, { deleteAttribute: ['EMAIL'] }, { customAttributes: '{"admin":true}' }]) {
      const refused = await request(bridge.app).post(UPDATE).send({ idToken: session.idToken, ...body });
      expectEmulatorError(refused, 'OPERATION_NOT_ALLOWED');
    }
    expectEmulatorError(await request(bridge.app).post(UPDATE).send({ idToken: session.idToken, displayName: 7 }), 'INVALID_ARGUMENT');
  });

  it('accounts:delete: the user is gone, its ID tokens are USER_NOT_FOUND and its refresh tokens too, even once the uid signs in again', async () => {
    const bridge = localBridge();
    const session = await signIn(bridge, 'margaret');
    expect(await request(bridge.app).post(DELETE).send({ idToken: session.idToken }).expect(200)).toMatchObject({
      body: { kind: 'identitytoolkit#DeleteAccountResponse' },
    });
    expectEmulatorError(await request(bridge.app).post(LOOKUP).send({ idToken: session.idToken }), 'USER_NOT_FOUND');
    expectEmulatorError(await request(bridge.app).post(DELETE).send({ idToken: session.idToken }), 'USER_NOT_FOUND');
    const refresh = () => request(bridge.app).post(TOKEN).type('form').send({ grant_type: 'refresh_token', refresh_token: session.refreshToken });
    expectEmulatorError(await refresh(), 'USER_NOT_FOUND');
    bridge.clock.advance(1000);
    const again = await signIn(bridge, 'margaret');
    expect(again.isNewUser).toBe(true);
    expectEmulatorError(await refresh(), 'USER_NOT_FOUND');
  });

  it('users and refresh tokens survive a restart, in a 0600 file that holds no refresh token', async () => {
    const first = localBridge();
    const session = await signIn(first, 'ken', { role: 'ops' });
    await request(first.app).post(UPDATE).send({ idToken: session.idToken, displayName: 'Ken' }).expect(200);
    // What the server's shutdown does (a burst of changes is written once, within 100 ms, or at shutdown).
    first.deps.localToolkit!.flush();
    const file = path.join(first.stateDir, 'accounts.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toContain(session.refreshToken);

    const second = localBridge(first.stateDir);
    const res = await request(second.app).post(TOKEN).type('form').send({ grant_type: 'refresh_token', refresh_token: session.refreshToken }).expect(200);
    expect(decodeJwt(res.body.id_token)).toMatchObject({ sub: 'ken', role: 'ops', name: 'Ken' });
    const lookup = await request(second.app).post(LOOKUP).send({ idToken: res.body.id_token }).expect(200);
    expect(lookup.body.users[0]).toMatchObject({ localId: 'ken', displayName: 'Ken', createdAt: String(START) });
  });

  it('a damaged accounts file stops the start with a message naming LOCAL_STATE_DIR', async () => {
    const bridge = localBridge();
    await signIn(bridge);
    bridge.deps.localToolkit!.flush();
    const file = path.join(bridge.stateDir, 'accounts.json');
    writeFileSync(file, '{"version":1,"users":[{"uid":5}],"sessions":[]}');
    expect(() => localBridge(bridge.stateDir)).toThrow(/LOCAL_STATE_DIR: .*accounts\.json is not local mode's accounts file/);
  });

  it('LOCAL_PROJECT_ID names the project its tokens are for', async () => {
    const bridge = localBridge(undefined, { LOCAL_PROJECT_ID: 'demo-my-app' });
    const session = await signIn(bridge);
    expect(decodeJwt(session.idToken)).toMatchObject({ aud: 'demo-my-app', iss: 'https://securetoken.google.com/demo-my-app' });
    await request(bridge.app).get('/v1/me').set('Authorization', `Bearer ${session.idToken}`).expect(200);
    const refreshed = await request(bridge.app).post(TOKEN).type('form').send({ grant_type: 'refresh_token', refresh_token: session.refreshToken }).expect(200);
    expect(refreshed.body.project_id).toBe('demo-my-app');
  });
});

describe('LocalAccounts bounds', () => {
  it('writes a burst of changes once, soon after them, by itself', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'firebridge-accounts-'));
    const file = path.join(dir, 'accounts.json');
    const accounts = LocalAccounts.open(dir, manualClock(START), { saveDelayMs: 20 });
    const tokens = ['a', 'b', 'c'].map((uid) => accounts.signIn(uid, {}).refreshToken);
    expect(existsSync(file)).toBe(false);
    for (let waited = 0; !existsSync(file) && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    const reopened = LocalAccounts.open(dir, manualClock(START));
    for (const token of tokens) expect(reopened.session(token)).not.toBe('unknown');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('keeps at most maxSessions refresh tokens and maxUsers users, dropping the least recently used', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'firebridge-accounts-'));
    const clock = manualClock(START);
    const accounts = LocalAccounts.open(dir, clock, { maxUsers: 3, maxSessions: 4 });
    const tokens = ['a', 'b', 'c', 'd', 'e'].map((uid) => accounts.signIn(uid, {}).refreshToken);
    expect(accounts.session(tokens[0] as string)).toBe('unknown');
    // Users a and b were dropped (3 kept): their remaining sessions are refused as user-gone.
    expect(accounts.session(tokens[1] as string)).toBe('user-gone');
    expect(accounts.get('a')).toBeUndefined();
    expect(accounts.session(tokens[4] as string)).toMatchObject({ user: { uid: 'e' } });
    accounts.flush();
    const reopened = LocalAccounts.open(dir, clock, { maxUsers: 3, maxSessions: 4 });
    expect(reopened.get('c')).toBeDefined();
    expect(reopened.session(tokens[4] as string)).toMatchObject({ session: { uid: 'e' } });
  });
});
