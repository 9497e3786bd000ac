import { PushFailedError } from '../../src/errors';
import { CachedAccessToken } from '../../src/google/access-token';
import { ApplicationDefaultCredentials } from '../../src/google/credentials';
import { FCM_SCOPE, FcmClient, type FcmClientOptions, retryAfterMs } from '../../src/google/fcm';
import { type CurrentServiceAccountKey, ServiceAccountTokenSource } from '../../src/google/service-account-tokens';
import { parseServiceAccountKey } from '../../src/keys/service-account-key';
import { createLogger } from '../../src/logger';
import { FakeFcm } from '../../testkit/fake-fcm';
import { FakeGoogle, type TestServiceAccount } from '../../testkit/fake-google';
import { FakeIam } from '../../testkit/fake-iam';
import { LogCapture, manualClock } from '../../testkit/harness';

/** FCM HTTP v1 against a fake token endpoint and a fake FCM that check the bearer token and its scope. */
describe('FcmClient (FCM HTTP v1)', () => {
  let google: FakeGoogle;
  let iam: FakeIam;
  let fcm: FakeFcm;
  let account: TestServiceAccount;
  let current: CurrentServiceAccountKey;
  beforeAll(async () => {
    google = await FakeGoogle.start();
    iam = await FakeIam.start(google);
    fcm = await FakeFcm.start(iam, google.projectId);
    account = google.createServiceAccount(google.projectId, 'fcm-sender');
    iam.addKey(account.clientEmail, account.key);
    current = parseServiceAccountKey(JSON.stringify(account.json), 'key.json');
  });
  afterAll(async () => {
    await fcm.close();
    await iam.close();
    await google.close();
  });
  beforeEach(() => {
    fcm.requests.length = 0;
    fcm.accepted.length = 0;
    fcm.faults.length = 0;
    fcm.delayMs = 0;
    iam.requests.length = 0;
    iam.failing = {};
  });

  const tokenRequests = () => iam.requests.filter((r) => r.path === '/token').length;
  const sourceFor = (key: () => CurrentServiceAccountKey | undefined = () => current, scopes: readonly string[] = [FCM_SCOPE]) =>
    new ServiceAccountTokenSource({ currentKey: key, tokenUrl: iam.tokenUrl, fetch: globalThis.fetch, clock: manualClock(), timeoutMs: 2000, scopes });
  const clientWith = (overrides: Partial<FcmClientOptions> = {}) => {
    const logs = new LogCapture();
    const client = new FcmClient({
      tokens: sourceFor(),
      fetch: globalThis.fetch,
      clock: Date.now,
      projectId: google.projectId,
      baseUrl: fcm.url,
      maxRetries: 3,
      timeoutMs: 5000,
      baseDelayMs: 5,
      logger: createLogger('info', logs),
      ...overrides,
    });
    return { client, logs };
  };
  const message = { token: 'device-token-1', notification: { title: 'Hi', body: 'there' }, data: { k: 'v' } };
  const failure = async (promise: Promise<unknown>): Promise<PushFailedError> => {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PushFailedError);
    return err as PushFailedError;
  };

  it('POSTs {message} to /v1/projects/<project>/messages:send with a Bearer token for the firebase.messaging scope', async () => {
    const { client } = clientWith();
    const { name } = await client.send(message);
    expect(name).toMatch(new RegExp(`^projects/${google.projectId}/messages/0:`));
    expect(fcm.requests).toHaveLength(1);
    expect(fcm.requests[0]?.path).toBe(`/v1/projects/${google.projectId}/messages:send`);
    expect(fcm.requests[0]?.body).toEqual({ message });
    const bearer = /^Bearer (.+)$/.exec(fcm.requests[0]?.authorization ?? '')?.[1] as string;
    expect(iam.hasScope(bearer, FCM_SCOPE)).toBe(true);
    expect(fcm.accepted).toEqual([{ name, message, validateOnly: false }]);
  });

  it('validateOnly is sent as validate_only (FCM dry run)', async () => {
    const { client } = clientWith();
    await expect(client.send(message, { validateOnly: true })).resolves.toEqual({ name: `projects/${google.projectId}/messages/fake_message_id` });
    expect(fcm.requests[0]?.body).toEqual({ message, validate_only: true });
  });

  it('a token for another scope is refused by FCM (403): not retried, a setup fault logged as an error', async () => {
    const { client, logs } = clientWith({ tokens: sourceFor(() => current, ['https://www.googleapis.com/auth/cloud-platform']) });
    const err = await failure(client.send(message));
    expect(err.reason).toBe('unavailable');
    expect(fcm.requests).toHaveLength(1);
    expect(logs.entries().some((e) => e.level === 50)).toBe(true);
  });

  it('UNREGISTERED: the caller is told (reason unregistered), never retried; the device token is in no error or log', async () => {
    fcm.unregistered.add('stale-device-token');
    const { client, logs } = clientWith();
    const err = await failure(client.send({ ...message, token: 'stale-device-token' }));
    expect(err.reason).toBe('unregistered');
    expect(fcm.requests).toHaveLength(1);
    expect(err.message).not.toContain('stale-device-token');
    expect(logs.text).not.toContain('stale-device-token');
  });

  it.each([
    ['INVALID_ARGUMENT', 'invalid_argument'],
    ['SENDER_ID_MISMATCH', 'sender_id_mismatch'],
  ] as const)('%s is never retried (reason %s)', async (fault, reason) => {
    fcm.faults.push(fault);
    const { client } = clientWith();
    expect((await failure(client.send(message))).reason).toBe(reason);
    expect(fcm.requests).toHaveLength(1);
  });

  it('THIRD_PARTY_AUTH_ERROR (a 401) is not retried and does not refresh the access token; logged as an error', async () => {
    const { client, logs } = clientWith();
    await client.send(message); // a cached token
    const before = tokenRequests();
    fcm.requests.length = 0;
    fcm.faults.push('THIRD_PARTY_AUTH_ERROR');
    const err = await failure(client.send(message));
    expect(err.reason).toBe('third_party_auth_error');
    expect(fcm.requests).toHaveLength(1);
    expect(tokenRequests()).toBe(before);
    expect(logs.entries().find((e) => e.level === 50)?.msg).toMatch(/APNs or web-push credentials/);
  });

  it('a 429 with Retry-After: waits that long, then succeeds', async () => {
    fcm.faults.push({ status: 429, retryAfter: '1' });
    const { client } = clientWith();
    const started = performance.now();
    await expect(client.send(message)).resolves.toHaveProperty('name');
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(fcm.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('a Retry-After past the deadline is not waited for: quota_exceeded at once, with retryAfterSeconds', async () => {
    fcm.faults.push({ status: 429, retryAfter: '30' });
    const { client } = clientWith({ timeoutMs: 2000 });
    const started = performance.now();
    const err = await failure(client.send(message));
    expect(performance.now() - started).toBeLessThan(1000);
    expect([err.reason, err.retryAfterSeconds]).toEqual(['quota_exceeded', 30]);
    expect(fcm.requests).toHaveLength(1);
  });

  it('a 503 burst then success: retried with back-off; FCM_MAX_RETRIES bounds the attempts', async () => {
    fcm.faults.push({ status: 503 }, { status: 503 }, 'INTERNAL');
    const { client } = clientWith({ maxRetries: 3 });
    await expect(client.send(message)).resolves.toHaveProperty('name');
    expect(fcm.requests.map((r) => r.status)).toEqual([503, 503, 500, 200]);

    fcm.requests.length = 0;
    fcm.faults.push({ status: 503 }, { status: 503 }, { status: 503 });
    const err = await failure(clientWith({ maxRetries: 2 }).client.send(message));
    expect(err.reason).toBe('unavailable');
    expect(err.message).toMatch(/after 2 retries/);
    expect(fcm.requests).toHaveLength(3);
    expect(fcm.faults).toHaveLength(0);
  });

  it('the back-off grows exponentially with full jitter (random 1: base, 2x base, 4x base)', async () => {
    fcm.faults.push({ status: 503 }, { status: 503 }, { status: 503 });
    const waits: number[] = [];
    const { client } = clientWith({ baseDelayMs: 100, random: () => 1, sleep: async (ms) => void waits.push(ms) });
    await client.send(message);
    expect(waits).toEqual([100, 200, 400]);
  });

  it('a 401 UNAUTHENTICATED (revoked token) drops the cached token and retries once with a fresh one', async () => {
    const { client } = clientWith();
    await client.send(message);
    const first = fcm.requests[0]?.authorization as string;
    fcm.revokedTokens.add(first.slice('Bearer '.length));
    fcm.requests.length = 0;
    const before = tokenRequests();
    await expect(client.send(message)).resolves.toHaveProperty('name');
    expect(fcm.requests.map((r) => r.status)).toEqual([401, 200]);
    expect(fcm.requests[1]?.authorization).not.toBe(first);
    expect(tokenRequests()).toBe(before + 1);
  });

  it('100 concurrent sends refused with the same revoked token: one refresh between them, all delivered', async () => {
    const { client } = clientWith();
    await client.send(message);
    fcm.revokedTokens.add((fcm.requests[0]?.authorization as string).slice('Bearer '.length));
    fcm.requests.length = 0;
    const before = tokenRequests();
    await Promise.all(Array.from({ length: 100 }, (_, i) => client.send({ token: `device-${i}` })));
    expect(tokenRequests()).toBe(before + 1);
    expect(fcm.requests.filter((r) => r.status === 200)).toHaveLength(100);
  });

  it('a second 401 with the fresh token fails (unavailable) after one refresh', async () => {
    fcm.faults.push('UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED');
    const { client } = clientWith();
    const err = await failure(client.send(message));
    expect(err.reason).toBe('unavailable');
    expect(fcm.requests).toHaveLength(2);
    expect(tokenRequests()).toBe(2);
  });

  it('the token endpoint failing with a 503 is retried like FCM; refusing the key (invalid_grant) is not', async () => {
    iam.failing.token = 503;
    const { client } = clientWith({ maxRetries: 2 });
    const down = await failure(client.send(message));
    expect([down.reason, tokenRequests(), fcm.requests.length]).toEqual(['unavailable', 3, 0]);
    iam.failing = {};
    iam.requests.length = 0;
    const stranger = google.createServiceAccount(google.projectId, 'not-in-iam');
    const unknownKey = parseServiceAccountKey(JSON.stringify(stranger.json), 'stranger.json');
    const refused = await failure(clientWith({ tokens: sourceFor(() => unknownKey) }).client.send(message));
    expect([refused.reason, tokenRequests(), fcm.requests.length]).toEqual(['unavailable', 1, 0]);
    expect(refused.message).toMatch(/^FCM access token: .*HTTP 400/);
  });

  it('100 concurrent sends share one token refresh', async () => {
    const { client } = clientWith();
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => client.send({ token: `device-${i}` })));
    expect(new Set(results.map((r) => r.name)).size).toBe(100);
    expect(tokenRequests()).toBe(1);
    expect(new Set(fcm.requests.map((r) => r.authorization)).size).toBe(1);
  });

  it('after a key rotation the next token is signed by the new key', async () => {
    const second = google.createServiceAccount(google.projectId, 'fcm-sender');
    iam.addKey(second.clientEmail, second.key);
    let key = current;
    const { client } = clientWith({ tokens: sourceFor(() => key) });
    await client.send(message);
    key = parseServiceAccountKey(JSON.stringify(second.json), 'key2.json');
    await client.send(message);
    expect(iam.assertionKids.slice(-2)).toEqual([account.key.kid, second.key.kid]);
    expect(fcm.requests[0]?.authorization).not.toBe(fcm.requests[1]?.authorization);
  });

  it('keyless: Application Default Credentials (the metadata server) with the firebase.messaging scope', async () => {
    const tokens = new ApplicationDefaultCredentials({
      config: { tokenUrl: iam.tokenUrl, metadataHost: iam.metadataHost, timeoutMs: 2000 },
      fetch: globalThis.fetch,
      clock: manualClock(),
      scopes: [FCM_SCOPE],
    });
    const { client } = clientWith({ tokens });
    await expect(client.send(message)).resolves.toHaveProperty('name');
    expect(iam.requests.some((r) => r.path.startsWith('/computeMetadata/v1/instance/service-accounts/default/token'))).toBe(true);
  });

  it('one deadline: a hanging FCM costs one FCM_TIMEOUT_MS (unavailable), not one per retry', async () => {
    fcm.delayMs = 2000;
    const { client } = clientWith({ timeoutMs: 300 });
    const started = performance.now();
    const err = await failure(client.send(message));
    expect(performance.now() - started).toBeLessThan(1500);
    expect(err.reason).toBe('unavailable');
    expect(err.message).toMatch(/timed out after 300 ms/);
    expect(fcm.requests).toHaveLength(1);
  });

  it('Retry-After as seconds or an HTTP-date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});

describe('CachedAccessToken.invalidate', () => {
  it('drops the cached token only when it is the one named', async () => {
    let n = 0;
    const cache = new CachedAccessToken(manualClock(), async () => ({ token: `t${++n}`, expiresInMs: 3_600_000 }));
    expect(await cache.get()).toBe('t1');
    cache.invalidate('t0');
    expect(await cache.get()).toBe('t1');
    cache.invalidate('t1');
    expect(await cache.get()).toBe('t2');
    cache.invalidate('t1');
    expect(await cache.get()).toBe('t2');
  });
});
