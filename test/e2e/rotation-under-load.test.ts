import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { FakeGoogle, IDENTITY_TOOLKIT_AUDIENCE, type TestServiceAccount } from '../../testkit/fake-google';
import { configuredEnv, keysDirWith } from '../../testkit/harness';
import { downloadedKeyFile, keysCli } from '../../testkit/keys-cli';
import { type SpawnedServer, spawnServer } from '../../testkit/spawn-server';

/** The whole rotation on a real process: traffic keeps flowing while `rotate --from` runs. */
describe('key rotation under load (real process)', () => {
  let fake: FakeGoogle;
  let first: TestServiceAccount;
  let dir: string;
  let server: SpawnedServer;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    first = fake.createServiceAccount();
    dir = keysDirWith(first);
    server = await spawnServer(configuredEnv(fake, dir, { KEYS_POLL_INTERVAL_MS: '300', LOG_LEVEL: 'info', RATE_LIMIT_EXCHANGE_PER_MINUTE: '0' }));
  });
  afterAll(async () => {
    await server?.stop();
    await fake.close();
  });

  async function exchange(): Promise<{ status: number; kid?: string; token?: string }> {
    // A fresh ID token each time (exchanges are replay-protected).
    const idToken = await fake.googleIdToken({ jti: randomUUID() });
    const res = await fetch(`${server.url}/v1/token/google`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ idToken }),
    });
    if (res.status !== 200) return { status: res.status };
    const { customToken } = (await res.json()) as { customToken: string };
    return { status: 200, kid: decodeProtectedHeader(customToken).kid, token: customToken };
  }

  it('zero failed requests; within seconds every new token is signed by the new key only; no restart', async () => {
    const pid = server.child.pid;
    const results: Array<{ status: number; kid?: string; token?: string; at: number }> = [];
    let running = true;
    const workers = Array.from({ length: 4 }, async () => {
      while (running) results.push({ ...(await exchange()), at: Date.now() });
    });
    await new Promise((r) => setTimeout(r, 300));

    const next = fake.createServiceAccount();
    const rotatedAt = Date.now();
    const run = await keysCli(['rotate', '--from', downloadedKeyFile(next)], { KEYS_DIR: dir, FIREBASE_PROJECT_ID: fake.projectId });
    expect(run.code).toBe(0);

    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && results.at(-1)?.kid !== next.key.kid) await new Promise((r) => setTimeout(r, 50));
    const switchedAt = Date.now();
    await new Promise((r) => setTimeout(r, 400)); // keep the load on after the swap
    running = false;
    await Promise.all(workers);

    expect(results.length).toBeGreaterThan(20);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(switchedAt - rotatedAt).toBeLessThan(5000);
    const after = results.filter((r) => r.at > switchedAt);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((r) => r.kid === next.key.kid)).toBe(true);

    // A new token verifies with the new key and not with the old; Firebase accepts it.
    const token = after.at(-1)!.token!;
    const options = { algorithms: ['RS256'], audience: IDENTITY_TOOLKIT_AUDIENCE, issuer: next.clientEmail };
    await expect(jwtVerify(token, next.key.publicKey, options)).resolves.toBeDefined();
    await expect(jwtVerify(token, first.key.publicKey, options)).rejects.toThrow();
    const signIn = await fetch(fake.signInWithCustomTokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, returnSecureToken: true }),
    });
    expect(signIn.status).toBe(200);

    expect(server.child.pid).toBe(pid);
    expect(server.child.exitCode).toBeNull();
    expect(server.output().match(/"msg":"listening"/g)).toHaveLength(1);
    expect(server.output()).toContain('keyring reloaded: new signing key');
    expect(server.output()).not.toContain('PRIVATE KEY');
  });

  it('a bad change is rejected and logged; SIGHUP re-reads; readiness stays', async () => {
    const signingBefore = (await exchange()).kid;
    writeFileSync(path.join(dir, 'junk.json'), '{"type": "service_account"', { mode: 0o600 });
    server.child.kill('SIGHUP');
    const until = Date.now() + 3000;
    while (Date.now() < until && !server.output().includes('key directory change rejected')) await new Promise((r) => setTimeout(r, 50));
    expect(server.output()).toMatch(/junk.json: is not valid JSON/);
    while (Date.now() < until && !server.output().includes('reloading the keyring')) await new Promise((r) => setTimeout(r, 50));
    expect(server.output()).toMatch(/"signal":"SIGHUP".*reloading the keyring/);
    expect((await exchange()).kid).toBe(signingBefore);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  });
});
