/**
 * Several instances: an admin revoke on one instance is seen by every other within a second, whatever
 * REVOCATION_CACHE_SECONDS (3600 here), through Redis pub/sub (src/store/redis-revocation-bus.ts).
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { FakeGoogle, type TestServiceAccount } from '../../testkit/fake-google';
import { FakeIam } from '../../testkit/fake-iam';
import { FakeIdentityToolkit } from '../../testkit/fake-identity-toolkit';
import { type TestBridge, bridgeFor } from '../../testkit/harness';
import { OwnRedis } from '../../testkit/redis-server';

const ADMIN_TOKEN = randomBytes(32).toString('base64');

describe('revocation across instances sharing one Redis', () => {
  let fake: FakeGoogle;
  let iam: FakeIam;
  let toolkit: FakeIdentityToolkit;
  let account: TestServiceAccount;
  let redis: OwnRedis;
  const built: TestBridge[] = [];

  beforeAll(async () => {
    fake = await FakeGoogle.start();
    iam = await FakeIam.start(fake);
    account = fake.createServiceAccount();
    iam.addKey(account.clientEmail, account.key);
    toolkit = await FakeIdentityToolkit.start(fake.projectId, (token) => iam.issuedTokens.includes(token));
    redis = await OwnRedis.start();
  });
  afterAll(async () => {
    await Promise.all(built.flatMap((b) => [b.deps.store.close(), b.deps.revocationBus?.close()]));
    await Promise.all([fake.close(), iam.close(), toolkit.close(), redis.close()]);
  });
  beforeEach(() => {
    toolkit.calls.length = 0;
    toolkit.users.clear();
  });

  function instance(env: Record<string, string> = {}): TestBridge {
    const bridge = bridgeFor(fake, {
      account,
      env: {
        CHECK_REVOKED: 'true',
        REVOCATION_CACHE_SECONDS: '3600',
        ADMIN_API_TOKEN: ADMIN_TOKEN,
        IDENTITY_TOOLKIT_URL: toolkit.url,
        GOOGLE_TOKEN_URL: iam.tokenUrl,
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: 'revocation-test:',
        ...env,
      },
    });
    built.push(bridge);
    return bridge;
  }

  const idToken = (uid: string) => {
    const now = Math.floor(Date.now() / 1000);
    return fake.firebaseIdToken({ sub: uid, user_id: uid, iat: now - 5, exp: now + 3600, auth_time: now - 5 });
  };
  const me = (bridge: TestBridge, token: string) => request(bridge.app).get('/v1/me').set('Authorization', `Bearer ${token}`);
  const revokeOn = (bridge: TestBridge, uid: string) =>
    request(bridge.app).post('/v1/admin/revoke').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ uid });
  const until = async (check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> => {
    const started = Date.now();
    while (!(await check())) {
      if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return Date.now() - started;
  };

  it('a revoke on A refuses the user on B within a second, with REVOCATION_CACHE_SECONDS=3600', async () => {
    const a = instance();
    const b = instance();
    await until(() => Boolean(a.deps.revocationBus?.listening() && b.deps.revocationBus?.listening()), 5000);
    toolkit.users.set('alice', {});
    const token = await idToken('alice');
    await me(b, token).expect(200);
    await me(b, token).expect(200);
    expect(toolkit.callsTo('lookup')).toHaveLength(1); // B caches alice's state for an hour

    await revokeOn(a, 'alice').expect(200);
    const elapsed = await until(async () => (await me(b, token)).status === 401, 1000);
    expect(elapsed).toBeLessThan(1000);
    const refused = await me(b, token).expect(401);
    expect(refused.body.error_description).toBe('the token has been revoked');
  }, 20_000);

  it('control: without Redis, B keeps serving its cached state for REVOCATION_CACHE_SECONDS (what the bus fixes)', async () => {
    const withoutRedis = { REDIS_URL: '', REDIS_KEY_PREFIX: '' };
    const a = instance(withoutRedis);
    const b = instance(withoutRedis);
    expect(b.deps.revocationBus).toBeUndefined();
    toolkit.users.set('bob', {});
    const token = await idToken('bob');
    await me(b, token).expect(200);
    await revokeOn(a, 'bob').expect(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await me(b, token).expect(200);
  });

  it('while B cannot hear announcements (Redis down), it trusts no cached state: every check asks Identity Toolkit', async () => {
    const b = instance();
    await until(() => Boolean(b.deps.revocationBus?.listening()), 5000);
    toolkit.users.set('carol', {});
    const token = await idToken('carol');
    await me(b, token).expect(200);
    await me(b, token).expect(200);
    expect(toolkit.callsTo('lookup')).toHaveLength(1);
    await redis.stop();
    try {
      await until(() => !b.deps.revocationBus?.listening(), 5000);
      await me(b, token).expect(200);
      await me(b, token).expect(200);
      expect(toolkit.callsTo('lookup')).toHaveLength(3);
    } finally {
      await redis.restart();
    }
    // Back: resubscribed, the cache is trusted again (after one fresh lookup: everything was forgotten).
    await until(() => Boolean(b.deps.revocationBus?.listening()), 10_000);
    await me(b, token).expect(200);
    await me(b, token).expect(200);
    expect(toolkit.callsTo('lookup')).toHaveLength(4);
  }, 30_000);
});
