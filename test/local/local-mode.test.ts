import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { FakeGoogle } from '../../testkit/fake-google';
import { bridgeFor } from '../../testkit/harness';
import { bridgeFetch } from '../../testkit/openapi-fetch';
import { type SpawnedServer, runToExit, spawnServer } from '../../testkit/spawn-server';

/** Every response of the spawned bridges is checked against /openapi.json. */
const fetch = bridgeFetch();

async function postJson(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("local mode: the README's walkthrough, on a real process", () => {
  let fake: FakeGoogle;
  let server: SpawnedServer;
  let stateDir: string;
  const minted: Record<string, string> = {};

  beforeAll(async () => {
    fake = await FakeGoogle.start();
    stateDir = path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-local-')), '.local');
    // No FIREBASE_PROJECT_ID / GOOGLE_CLIENT_IDS and nothing else a deployment has: local mode. An empty
    // KEYS_DIR, so keys in this checkout's keys/ cannot matter (a keyring stops local mode: local-mode-start.test.ts).
    const emptyKeysDir = mkdtempSync(path.join(tmpdir(), 'firebridge-nokeys-'));
    server = await spawnServer({ LOCAL_STATE_DIR: stateDir, KEYS_DIR: emptyKeysDir, LOG_LEVEL: 'info' });
    fetch.bridge(server.url);
  }, 30_000);

  afterAll(async () => {
    await fake.close();
  });

  it('announces local mode and listens on 127.0.0.1', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.output()).toContain('LOCAL MODE');
    expect(server.output()).toContain('"projectId":"demo-firebridge"');
  });

  it('Google ID token → custom token → Firebase ID token → GET /v1/me', async () => {
    const google = await postJson(`${server.url}/local/google/id-token`, { email: 'ada@example.com', name: 'Ada' });
    expect(google.status).toBe(200);
    minted.googleIdToken = google.json.idToken as string;

    const exchange = await postJson(`${server.url}/v1/token/google`, { idToken: minted.googleIdToken });
    expect(exchange.status).toBe(200);
    expect(exchange.json.uid).toMatch(/^google:\d+$/);
    minted.customToken = exchange.json.customToken as string;

    const signIn = await postJson(
      `${server.url}/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken?key=any`,
      { token: minted.customToken, returnSecureToken: true },
    );
    expect(signIn.status).toBe(200);
    // The Auth Emulator's answer: no localId (the uid is the ID token's sub).
    expect(Object.keys(signIn.json).sort()).toEqual(['expiresIn', 'idToken', 'isNewUser', 'kind', 'refreshToken']);
    expect(signIn.json).toMatchObject({ kind: 'identitytoolkit#VerifyCustomTokenResponse', expiresIn: '3600', isNewUser: true });
    minted.firebaseIdToken = signIn.json.idToken as string;
    minted.refreshToken = signIn.json.refreshToken as string;
    const [, idPayload] = minted.firebaseIdToken.split('.');
    expect(JSON.parse(Buffer.from(idPayload as string, 'base64url').toString()).sub).toBe(exchange.json.uid);

    const me = await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${minted.firebaseIdToken}` } });
    expect(me.status).toBe(200);
    const body = (await me.json()) as { uid: string; claims: Record<string, unknown> };
    expect(body.uid).toBe(exchange.json.uid);
    expect(body.claims).toMatchObject({ email: 'ada@example.com', name: 'Ada', aud: 'demo-firebridge' });

    // The same email signs in as the same user again.
    const again = await postJson(`${server.url}/local/google/id-token`, { email: 'ada@example.com' });
    const second = await postJson(`${server.url}/v1/token/google`, { idToken: again.json.idToken });
    expect(second.json.uid).toBe(exchange.json.uid);
  });

  it('the local signInWithCustomToken checks the signature', async () => {
    const [h, p] = minted.customToken!.split('.');
    const forged = await postJson(
      `${server.url}/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken`,
      { token: `${h}.${p}.${Buffer.alloc(256, 7).toString('base64url')}` },
    );
    expect(forged.status).toBe(400);
    expect((forged.json.error as { message: string }).message).toMatch(/INVALID_CUSTOM_TOKEN/);
  });

  it('keeps its own keys 0600 in its state folder', () => {
    const files = readdirSync(stateDir);
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) expect(statSync(path.join(stateDir, name)).mode & 0o777).toBe(0o600);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
  });

  it('a configured server refuses every token local mode minted', async () => {
    const account = fake.createServiceAccount();
    const { app } = bridgeFor(fake, { account, env: { GOOGLE_CLIENT_IDS: 'firebridge-local.apps.googleusercontent.com' } });
    // Even with local mode's client ID allowed, the local "Google" key is not Google's.
    await request(app).post('/v1/token/google').send({ idToken: minted.googleIdToken }).expect(401);
    await request(app).get('/v1/me').set('Authorization', `Bearer ${minted.firebaseIdToken}`).expect(401);
    // And real Identity Toolkit does not take local mode's custom tokens.
    const signIn = await fetch(fake.signInWithCustomTokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: minted.customToken }),
    });
    expect(signIn.status).toBe(400);
  });

  it('no token is logged', () => {
    for (const token of Object.values(minted)) expect(server.output()).not.toContain(token.split('.')[2] ?? token);
  });

  it('SIGTERM stops it cleanly (exit 0)', async () => {
    expect(await server.stop()).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');
  });
});

describe('start-up refusals', () => {
  it('NODE_ENV=production with no settings: refuses to start and names the setting', async () => {
    const { code, output } = await runToExit({ NODE_ENV: 'production' });
    expect(code).toBe(78);
    expect(output).toMatch(/FIREBASE_PROJECT_ID/);
    expect(output).not.toContain('LOCAL MODE');
  }, 20_000);

  it('a bad setting stops the server with a message naming it', async () => {
    const { code, output } = await runToExit({ FIREBASE_PROJECT_ID: 'my-app-12345', GOOGLE_CLIENT_IDS: 'a', CLOCK_SKEW_SECONDS: '900' });
    expect(code).toBe(78);
    expect(output).toMatch(/CLOCK_SKEW_SECONDS: must be between 0 and 300/);
  }, 20_000);

  it('an empty KEYS_DIR stops the server with a message naming it', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'firebridge-empty-'));
    const { code, output } = await runToExit({ FIREBASE_PROJECT_ID: 'my-app-12345', GOOGLE_CLIENT_IDS: 'a', KEYS_DIR: empty });
    expect(code).toBe(1);
    expect(output).toMatch(/KEYS_DIR: .* holds no service-account key file/);
  }, 20_000);
});
