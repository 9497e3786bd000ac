import Redis from 'ioredis';
import { RedisRevocationBus } from '../../src/store/redis-revocation-bus';
import { RedisStore, connectRedis, redisClientOptions } from '../../src/store/redis-store';
import { OwnRedis } from '../../testkit/redis-server';

const until = async (check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> => {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return Date.now() - started;
};

describe('RedisStore connections: options, key prefix, Sentinel, reconnection', () => {
  let redis: OwnRedis;
  beforeAll(async () => {
    redis = await OwnRedis.start();
  });
  afterAll(() => redis.close());

  it('the ioredis options: bounded commands, reconnect forever with backoff; Sentinel takes auth, db and TLS from REDIS_URL', () => {
    const plain = redisClientOptions({ url: 'redis://r:6379/0' }, 750);
    expect(plain).toMatchObject({ commandTimeout: 750, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    expect(plain.sentinels).toBeUndefined();
    expect(plain.retryStrategy?.(1)).toBe(100);
    expect(plain.retryStrategy?.(100)).toBe(2000); // never null: ioredis keeps reconnecting

    const sentinel = redisClientOptions({
      url: 'rediss://bridge:s%3Acret@ignored-host:1/4',
      sentinels: [{ host: 's1', port: 26379 }, { host: '::1', port: 26380 }],
      sentinelName: 'mymaster',
    });
    expect(sentinel).toMatchObject({
      sentinels: [{ host: 's1', port: 26379 }, { host: '::1', port: 26380 }],
      name: 'mymaster',
      username: 'bridge',
      password: 's:cret',
      db: 4,
      tls: {},
      enableTLSForSentinelMode: true,
    });
    expect(sentinel.sentinelTLS).toBeUndefined();
    expect(redisClientOptions({ url: 'redis://:pw@x/0', sentinels: [{ host: 's', port: 1 }], sentinelName: 'm' }).tls).toBeUndefined();
    expect(sentinel.host).toBeUndefined(); // the master comes from Sentinel, not REDIS_URL's host
    // The subscriber connection has no command timeout (it waits for messages).
    expect(redisClientOptions({ url: 'redis://r' }, 0).commandTimeout).toBeUndefined();
  });

  it('the options reach ioredis: the connection of a Sentinel target is a Sentinel connection to that group', () => {
    const client = connectRedis({ sentinels: [{ host: '127.0.0.1', port: 1 }], sentinelName: 'grp' });
    try {
      expect(client.options.sentinels).toEqual([{ host: '127.0.0.1', port: 1 }]);
      expect(client.options.name).toBe('grp');
      expect(client.options.commandTimeout).toBe(1000);
    } finally {
      client.disconnect();
    }
  });

  it('every key is under the prefix: two deployments sharing one Redis do not see each other', async () => {
    const a = new RedisStore(redis.url, 'deploy-a:');
    const b = new RedisStore(redis.url, 'deploy-b:');
    const raw = new Redis(redis.url);
    try {
      expect(await a.putIfAbsent('nonce:n1', 10_000)).toBe(true);
      expect(await b.putIfAbsent('nonce:n1', 10_000)).toBe(true); // another deployment's key
      await a.hit('rl:exchange:1.2.3.4', 60_000);
      expect(await a.claim('replay:t1', 10_000, Date.now() + 60_000)).toBe('claimed');
      const keys = (await raw.keys('*')).sort();
      expect(keys.every((key) => key.startsWith('deploy-a:') || key.startsWith('deploy-b:'))).toBe(true);
      expect(keys).toEqual(expect.arrayContaining(['deploy-a:nonce:n1', 'deploy-b:nonce:n1', 'deploy-a:rl:exchange:1.2.3.4', 'deploy-a:epoch']));
    } finally {
      await Promise.all([a.close(), b.close(), raw.quit()]);
    }
  });

  it('reconnects by itself after Redis restarts: commands fail while it is down, then work again', async () => {
    const store = new RedisStore(redis.url, 'reconnect:', { commandTimeoutMs: 300 });
    try {
      expect(await store.ping()).toBe(true);
      await redis.stop();
      expect(await store.ping()).toBe(false);
      await expect(store.putIfAbsent('k', 1000)).rejects.toThrow();
      await redis.restart();
      await until(() => store.ping(), 10_000);
      expect(await store.putIfAbsent('k2', 1000)).toBe(true);
    } finally {
      await store.close();
    }
  }, 20_000);

  it('through Sentinel (redis-server --sentinel): the store finds the master and works', async () => {
    const sentinelPort = await redis.sentinel('fbmaster');
    const store = new RedisStore({ sentinels: [{ host: '127.0.0.1', port: sentinelPort }], sentinelName: 'fbmaster' }, 'via-sentinel:');
    const raw = new Redis(redis.url);
    try {
      await until(() => store.ping(), 10_000);
      expect(await store.putIfAbsent('nonce:s', 10_000)).toBe(true);
      expect(await store.putIfAbsent('nonce:s', 10_000)).toBe(false);
      expect(await raw.exists('via-sentinel:nonce:s')).toBe(1); // on the master the sentinel named
    } finally {
      await Promise.all([store.close(), raw.quit()]);
    }
  }, 20_000);

  it('the revocation bus: an announcement reaches every subscriber under the same prefix, not another prefix', async () => {
    const a = new RedisRevocationBus(redis.url, 'bus:');
    const b = new RedisRevocationBus(redis.url, 'bus:');
    const other = new RedisRevocationBus(redis.url, 'other:');
    const heard = { a: [] as Array<string | undefined>, b: [] as Array<string | undefined>, other: [] as Array<string | undefined> };
    a.onRevoked((uid) => heard.a.push(uid));
    b.onRevoked((uid) => heard.b.push(uid));
    other.onRevoked((uid) => heard.other.push(uid));
    try {
      await until(() => a.listening() && b.listening() && other.listening(), 5000);
      await a.announce('user-1');
      await until(() => heard.b.includes('user-1'), 1000);
      expect(heard.a).toContain('user-1');
      expect(heard.other).not.toContain('user-1');
      // A restart loses messages: the bus stops listening, then reports "forget everything" (undefined).
      const before = heard.b.length;
      await redis.restart();
      await until(() => b.listening() && heard.b.length > before, 10_000);
      expect(heard.b[heard.b.length - 1]).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  }, 20_000);
});
