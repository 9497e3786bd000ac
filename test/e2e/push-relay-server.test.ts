import { randomBytes } from 'node:crypto';
import { FakeFcm } from '../../testkit/fake-fcm';
import { FakeGoogle } from '../../testkit/fake-google';
import { FakeIam } from '../../testkit/fake-iam';
import { configuredEnv, keysDirWith } from '../../testkit/harness';
import { downloadedKeyFile, keysCli } from '../../testkit/keys-cli';
import { type SpawnedServer, spawnServer } from '../../testkit/spawn-server';
import { bridgeFetch } from '../../testkit/openapi-fetch';

/** Every response of the spawned bridge is checked against /openapi.json. */
const fetch = bridgeFetch();
const PUSH_TOKEN = randomBytes(32).toString('base64url');
const DEVICE = 'e2e-device-token-abcdef0123456789';

/** The push relay in a real server process, against the fake token endpoint and the fake FCM; a key rotation while it runs. */
describe('the push relay in a running server', () => {
  let google: FakeGoogle;
  let iam: FakeIam;
  let fcm: FakeFcm;
  let server: SpawnedServer | undefined;
  beforeAll(async () => {
    google = await FakeGoogle.start();
    iam = await FakeIam.start(google);
    fcm = await FakeFcm.start(iam, google.projectId);
  });
  afterAll(async () => {
    await server?.stop();
    await Promise.all([fcm.close(), iam.close(), google.close()]);
  });

  const push = (url: string, body: unknown, token = PUSH_TOKEN) =>
    fetch(`${url}/v1/push/send`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('relays with the signing key\'s firebase.messaging token; after a rotation the next token comes from the new key', async () => {
    const first = google.createServiceAccount(google.projectId, 'bridge-e2e');
    const second = google.createServiceAccount(google.projectId, 'bridge-e2e');
    iam.addKey(first.clientEmail, first.key);
    iam.addKey(second.clientEmail, second.key);
    const keysDir = keysDirWith(first);
    server = await spawnServer(
      configuredEnv(google, keysDir, {
        HOST: '127.0.0.1',
        GOOGLE_TOKEN_URL: iam.tokenUrl,
        FCM_API_URL: fcm.url,
        PUSH_API_TOKEN: PUSH_TOKEN,
        KEYS_POLL_INTERVAL_MS: '100',
      }),
    );
    fetch.bridge(server.url);
    const message = { token: DEVICE, data: { code: '424242' } };
    expect((await push(server.url, { message }, randomBytes(32).toString('base64url'))).status).toBe(401);
    expect(fcm.requests).toHaveLength(0);

    const ok = await push(server.url, { message });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { name: string }).name).toMatch(new RegExp(`^projects/${google.projectId}/messages/`));
    expect(iam.assertionKids).toEqual([first.key.kid]);

    fcm.unregistered.add(DEVICE);
    const gone = await push(server.url, { message });
    expect([gone.status, ((await gone.json()) as { error: string }).error]).toEqual([404, 'unregistered']);
    fcm.unregistered.clear();

    const rotated = await keysCli(['rotate', '--from', downloadedKeyFile(second)], { KEYS_DIR: keysDir, FIREBASE_PROJECT_ID: google.projectId });
    expect(rotated.code).toBe(0);
    // The server follows KEYS_DIR (polled every 100 ms): wait until a push is authorized by the new key.
    const deadline = Date.now() + 10_000;
    while (!iam.assertionKids.includes(second.key.kid) && Date.now() < deadline) {
      expect((await push(server.url, { message })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(iam.assertionKids.at(-1)).toBe(second.key.kid);
    expect(new Set(iam.assertionKids)).toEqual(new Set([first.key.kid, second.key.kid]));

    const output = server.output();
    expect(output).toContain('push relayed');
    expect(output).not.toContain(DEVICE);
    expect(output).not.toContain('424242');
    expect(output).not.toContain(PUSH_TOKEN);
  }, 30_000);
});
