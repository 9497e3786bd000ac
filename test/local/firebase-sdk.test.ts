import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deleteApp, initializeApp } from 'firebase/app';
import {
  type Auth,
  connectAuthEmulator,
  deleteUser,
  inMemoryPersistence,
  initializeAuth,
  signInWithCustomToken,
  signOut,
  updateProfile,
} from 'firebase/auth';
import { bridgeFetch } from '../../testkit/openapi-fetch';
import { type SpawnedServer, spawnServer } from '../../testkit/spawn-server';

/** The real Firebase JS SDK 12 (firebase/auth in Node) against local mode, connected as to the Auth Emulator. */

let apps = 0;

function sdkAuth(url: string, projectId = 'demo-firebridge'): { auth: Auth; close: () => Promise<void> } {
  apps += 1;
  const app = initializeApp({ apiKey: 'fake-api-key', projectId }, `firebridge-sdk-${apps}`);
  const auth = initializeAuth(app, { persistence: inMemoryPersistence });
  connectAuthEmulator(auth, url, { disableWarnings: true });
  return { auth, close: () => deleteApp(app) };
}

async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** The bridge's own flow: a local Google ID token exchanged for a custom token. */
async function bridgeCustomToken(url: string, email: string, name?: string): Promise<{ customToken: string; uid: string }> {
  const google = await postJson(`${url}/local/google/id-token`, { email, ...(name !== undefined ? { name } : {}) });
  const exchange = await postJson(`${url}/v1/token/google`, { idToken: google.idToken });
  return { customToken: exchange.customToken as string, uid: exchange.uid as string };
}

/** Waits until the clock shows the next second, so a token minted now differs from one minted before (iat). */
async function nextSecond(): Promise<void> {
  const start = Math.floor(Date.now() / 1000);
  while (Math.floor(Date.now() / 1000) === start) await new Promise((resolve) => setTimeout(resolve, 50));
}

async function me(url: string, idToken: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${idToken}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const originalFetch = globalThis.fetch;

describe('the Firebase JS SDK against local mode (connectAuthEmulator)', () => {
  let server: SpawnedServer;
  let stateDir: string;
  let keysDir: string;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'firebridge-sdk-'));
    stateDir = path.join(tmp, '.local');
    keysDir = path.join(tmp, 'nokeys');
    server = await spawnServer({ LOCAL_STATE_DIR: stateDir, KEYS_DIR: keysDir, LOG_LEVEL: 'info' });
    // Every answer the SDK (and this file) gets from the server is checked against /openapi.json: the emulated
    // Identity Toolkit and securetoken calls as the real SDK makes them. A restart keeps the port, so the origin.
    globalThis.fetch = bridgeFetch(originalFetch);
    (globalThis.fetch as ReturnType<typeof bridgeFetch>).bridge(server.url);
  }, 30_000);

  afterAll(async () => {
    globalThis.fetch = originalFetch;
    for (const close of closers) await close();
    await server?.stop();
  });

  it('signInWithCustomToken, getIdToken, getIdToken(true), getIdTokenResult claims, /v1/me, updateProfile, signOut', async () => {
    const { auth, close } = sdkAuth(server.url);
    closers.push(close);
    const { customToken, uid } = await bridgeCustomToken(server.url, 'ada@example.com', 'Ada');

    const credential = await signInWithCustomToken(auth, customToken);
    expect(credential.user.uid).toBe(uid);
    expect(auth.currentUser?.uid).toBe(uid);
    // accounts:lookup answered: the SDK has the user's metadata.
    expect(credential.user.metadata.creationTime).toBeDefined();
    expect(credential.user.isAnonymous).toBe(false);

    const first = await credential.user.getIdToken();
    expect(first.split('.')).toHaveLength(3);
    const result = await credential.user.getIdTokenResult();
    expect(result.claims).toMatchObject({ sub: uid, email: 'ada@example.com', name: 'Ada', aud: 'demo-firebridge' });
    expect(result.signInProvider).toBe('custom');

    await nextSecond();
    const refreshed = await credential.user.getIdToken(true);
    expect(refreshed).not.toBe(first);
    const refreshedResult = await credential.user.getIdTokenResult();
    expect(refreshedResult.token).toBe(refreshed);
    expect(refreshedResult.claims).toMatchObject({ sub: uid, email: 'ada@example.com' });
    expect(Date.parse(refreshedResult.issuedAtTime)).toBeGreaterThan(Date.parse(result.issuedAtTime));

    const withRefreshed = await me(server.url, refreshed);
    expect(withRefreshed.status).toBe(200);
    expect(withRefreshed.body.uid).toBe(uid);

    await updateProfile(credential.user, { displayName: 'Ada Lovelace', photoURL: 'https://example.com/ada.png' });
    expect(credential.user.displayName).toBe('Ada Lovelace');
    expect(credential.user.photoURL).toBe('https://example.com/ada.png');
    const afterUpdate = await credential.user.getIdTokenResult();
    expect(afterUpdate.claims).toMatchObject({ name: 'Ada Lovelace', picture: 'https://example.com/ada.png' });
    await credential.user.reload();
    expect(credential.user.displayName).toBe('Ada Lovelace');

    await signOut(auth);
    expect(auth.currentUser).toBeNull();
  }, 30_000);

  it('a bad custom token is auth/invalid-custom-token', async () => {
    const { auth, close } = sdkAuth(server.url);
    closers.push(close);
    await expect(signInWithCustomToken(auth, 'not-a-token')).rejects.toMatchObject({ code: 'auth/invalid-custom-token' });
    const { customToken } = await bridgeCustomToken(server.url, 'eve@example.com');
    const [h, p] = customToken.split('.');
    const forged = `${h}.${p}.${Buffer.alloc(256, 1).toString('base64url')}`;
    await expect(signInWithCustomToken(auth, forged)).rejects.toMatchObject({
      code: 'auth/invalid-custom-token',
      message: expect.stringContaining('custom token signature is invalid'),
    });
    expect(auth.currentUser).toBeNull();
  }, 30_000);

  it('deleteUser: the user is gone, and its refresh token is refused (USER_NOT_FOUND)', async () => {
    const { auth, close } = sdkAuth(server.url);
    closers.push(close);
    const { customToken } = await bridgeCustomToken(server.url, 'temp@example.com');
    const { user } = await signInWithCustomToken(auth, customToken);
    const refreshToken = user.refreshToken;
    await deleteUser(user);
    expect(auth.currentUser).toBeNull();
    const res = await fetch(`${server.url}/securetoken.googleapis.com/v1/token?key=fake-api-key`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^USER_NOT_FOUND : /);
  }, 30_000);

  it('a restart keeps refresh tokens: the signed-in SDK refreshes against the restarted server', async () => {
    const { auth, close } = sdkAuth(server.url);
    closers.push(close);
    const { customToken, uid } = await bridgeCustomToken(server.url, 'grace@example.com');
    const { user } = await signInWithCustomToken(auth, customToken);
    const before = await user.getIdToken();

    const port = new URL(server.url).port;
    expect(await server.stop()).toBe(0);
    server = await spawnServer({ LOCAL_STATE_DIR: stateDir, KEYS_DIR: keysDir, LOG_LEVEL: 'info', PORT: port });
    expect(server.url).toBe(`http://127.0.0.1:${port}`);

    await nextSecond();
    const after = await user.getIdToken(true);
    expect(after).not.toBe(before);
    const result = await me(server.url, after);
    expect(result.status).toBe(200);
    expect(result.body.uid).toBe(uid);
    // No token or refresh token in the log.
    expect(server.output()).not.toContain(user.refreshToken);
    expect(server.output()).not.toContain(after.split('.')[2]);
  }, 60_000);
});
