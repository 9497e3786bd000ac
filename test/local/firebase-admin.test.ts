import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type App, cert, deleteApp, initializeApp } from 'firebase-admin/app';
import { getAuth } from 'firebase-admin/auth';
import { SignJWT, decodeProtectedHeader } from 'jose';
import { type RunningServer, startServer } from '../../src/compose/server';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { LogCapture } from '../../testkit/harness';
import { tlsRelay } from '../../testkit/tls';

/**
 * firebase-admin's verifyIdToken and the bridge agree on local mode's tokens. firebase-admin fetches its keys
 * from the fixed https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com (no
 * option names another URL), but it sends that request through the app's `httpAgent`: here an agent whose every
 * connection goes to a TLS server on 127.0.0.1 answering as www.googleapis.com (a test certificate the agent
 * alone trusts) and relaying to local mode. No network, and FIREBASE_AUTH_EMULATOR_HOST unset: firebase-admin
 * checks signatures as in production.
 */
describe('firebase-admin verifyIdToken and the bridge agree on local mode tokens', () => {
  let running: RunningServer;
  let relay: Awaited<ReturnType<typeof tlsRelay>>;
  let admin: App;

  const post = async (route: string, body: unknown) => {
    const res = await fetch(`${running.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, string> };
  };
  const bridgeAccepts = async (token: string) => (await fetch(`${running.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status === 200;
  const adminAccepts = async (token: string) => getAuth(admin).verifyIdToken(token).then(() => true, () => false);

  beforeAll(async () => {
    delete process.env.FIREBASE_AUTH_EMULATOR_HOST;
    const tmp = mkdtempSync(path.join(tmpdir(), 'firebridge-admin-'));
    const config = loadConfig({ LOCAL_STATE_DIR: path.join(tmp, '.local'), KEYS_DIR: path.join(tmp, 'nokeys'), PORT: '0' }, tmp);
    running = await startServer(config, { logger: createLogger('silent', new LogCapture()) });
    relay = await tlsRelay(['www.googleapis.com'], running.url);
    admin = initializeApp({ projectId: 'demo-firebridge', httpAgent: relay.agent }, `firebridge-admin-${Date.now()}`);
  }, 30_000);

  afterAll(async () => {
    if (admin) await deleteApp(admin);
    await relay?.close();
    await running?.shutdown();
  });

  it('a Firebase ID token from local mode passes both, with the same uid and claims', async () => {
    const google = await post('/local/google/id-token', { email: 'ada@example.com', name: 'Ada' });
    const exchange = await post('/v1/token/google', { idToken: google.json.idToken });
    const signIn = await post('/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken?key=k', { token: exchange.json.customToken });
    const idToken = signIn.json.idToken as string;

    const decoded = await getAuth(admin).verifyIdToken(idToken);
    expect(relay.requests).toEqual(['GET www.googleapis.com /robot/v1/metadata/x509/securetoken@system.gserviceaccount.com']);
    const me = await fetch(`${running.url}/v1/me`, { headers: { authorization: `Bearer ${idToken}` } });
    expect(me.status).toBe(200);
    const bridge = (await me.json()) as { uid: string; claims: Record<string, unknown> };
    expect(decoded.uid).toBe(bridge.uid);
    expect(decoded.uid).toBe(exchange.json.uid);
    expect(decoded).toMatchObject({ email: 'ada@example.com', name: 'Ada', aud: 'demo-firebridge', iss: 'https://securetoken.google.com/demo-firebridge' });
    expect(decoded.firebase.sign_in_provider).toBe('custom');
    for (const claim of ['email', 'name', 'sub', 'aud', 'iss', 'iat', 'exp', 'auth_time']) {
      expect([claim, bridge.claims[claim]]).toEqual([claim, (decoded as unknown as Record<string, unknown>)[claim]]);
    }

    // A refreshed token too.
    const refreshRes = await fetch(`${running.url}/securetoken.googleapis.com/v1/token?key=k`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: signIn.json.refreshToken as string }),
    });
    const refreshed = ((await refreshRes.json()) as { id_token: string }).id_token;
    expect([await adminAccepts(refreshed), await bridgeAccepts(refreshed)]).toEqual([true, true]);
  });

  it("firebase-admin's createCustomToken (no kid), signed with local mode's service account, signs in to local mode", async () => {
    const account = running.deps.local!.serviceAccount;
    const signer = initializeApp(
      {
        projectId: account.projectId,
        credential: cert({
          projectId: account.projectId,
          clientEmail: account.clientEmail,
          privateKey: account.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
        }),
        httpAgent: relay.agent,
      },
      `firebridge-admin-signer-${Date.now()}`,
    );
    try {
      const customToken = await getAuth(signer).createCustomToken('admin-made', { plan: 'pro' });
      expect(decodeProtectedHeader(customToken).kid).toBeUndefined();
      const signIn = await post('/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken?key=k', { token: customToken });
      expect(signIn.status).toBe(200);
      const decoded = await getAuth(admin).verifyIdToken(signIn.json.idToken as string);
      expect(decoded).toMatchObject({ uid: 'admin-made', plan: 'pro' });
    } finally {
      await deleteApp(signer);
    }
  });

  it('both refuse what local mode did not sign for its project: a forged signature, a Google ID token, a custom token', async () => {
    const google = await post('/local/google/id-token', { email: 'eve@example.com' });
    const exchange = await post('/v1/token/google', { idToken: google.json.idToken });
    const signIn = await post('/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken?key=k', { token: exchange.json.customToken });
    const idToken = signIn.json.idToken as string;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({
      sub: 'mallory',
      user_id: 'mallory',
      aud: 'demo-firebridge',
      iss: 'https://securetoken.google.com/demo-firebridge',
      iat: now,
      exp: now + 600,
      auth_time: now,
      firebase: { identities: {}, sign_in_provider: 'custom' },
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: decodeProtectedHeader(idToken).kid as string })
      .sign(privateKey);
    const [h, p] = idToken.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p as string, 'base64url').toString()), sub: 'mallory' })).toString('base64url')}.${idToken.split('.')[2]}`;
    for (const token of [forged, tampered, google.json.idToken as string, exchange.json.customToken as string]) {
      expect([await adminAccepts(token), await bridgeAccepts(token)]).toEqual([false, false]);
    }
  });
});
