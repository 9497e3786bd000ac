import { ConfigError, loadConfig } from '../../src/config';
import { redisTarget } from '../../src/compose/store';

const base = {
  FIREBASE_PROJECT_ID: 'my-app-12345',
  GOOGLE_CLIENT_IDS: '123-abc.apps.googleusercontent.com',
};

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('loadConfig did not throw');
}

const hardening = (env: Record<string, string>) => loadConfig({ ...base, ...env }).hardening;

describe('several instances: Redis settings', () => {
  it('REDIS_KEY_PREFIX defaults to firebridge: and is kept exactly as given', () => {
    expect(hardening({}).redisKeyPrefix).toBe('firebridge:');
    expect(hardening({ REDIS_KEY_PREFIX: 'staging:bridge:' }).redisKeyPrefix).toBe('staging:bridge:');
    expect(errorOf({ ...base, REDIS_KEY_PREFIX: 'has space:' }).setting).toBe('REDIS_KEY_PREFIX');
    expect(hardening({ REDIS_KEY_PREFIX: '' }).redisKeyPrefix).toBe('firebridge:'); // empty is unset, as every setting
    expect(errorOf({ ...base, REDIS_KEY_PREFIX: 'p'.repeat(65) }).setting).toBe('REDIS_KEY_PREFIX');
  });

  it('REDIS_SENTINELS parses host:port entries, IPv6 in brackets; REDIS_SENTINEL_NAME names the master group', () => {
    const settings = hardening({ REDIS_SENTINELS: 'sentinel-0.redis:26379, 10.0.0.7:26380,[::1]:26381', REDIS_SENTINEL_NAME: 'mymaster' });
    expect(settings.redisSentinels).toEqual([
      { host: 'sentinel-0.redis', port: 26379 },
      { host: '10.0.0.7', port: 26380 },
      { host: '::1', port: 26381 },
    ]);
    expect(settings.redisSentinelName).toBe('mymaster');
    expect(hardening({}).redisSentinels).toBeUndefined();
  });

  it('every bad Redis setting is reported at once, each naming its setting', () => {
    const err = errorOf({
      ...base,
      REDIS_SENTINELS: 'sentinel-0:26379,no-port',
      REDIS_KEY_PREFIX: 'a b',
      RATE_LIMIT_ON_STORE_ERROR: 'sometimes',
    });
    const settings = err.problems.map((problem) => problem.setting);
    expect(settings).toEqual(expect.arrayContaining(['REDIS_SENTINELS', 'REDIS_KEY_PREFIX', 'RATE_LIMIT_ON_STORE_ERROR']));
    expect(err.message).toMatch(/REDIS_SENTINELS: "no-port" must be host:port/);
    expect(err.message).toMatch(/RATE_LIMIT_ON_STORE_ERROR: must be one of open, closed, got "sometimes"/);
  });

  it('each Sentinel setting needs the other; ports and names are checked', () => {
    expect(errorOf({ ...base, REDIS_SENTINELS: 'a:26379' }).setting).toBe('REDIS_SENTINEL_NAME');
    expect(errorOf({ ...base, REDIS_SENTINEL_NAME: 'mymaster' }).setting).toBe('REDIS_SENTINELS');
    expect(errorOf({ ...base, REDIS_SENTINELS: 'a:70000', REDIS_SENTINEL_NAME: 'm' }).message).toMatch(/port must be between 1 and 65535/);
    expect(errorOf({ ...base, REDIS_SENTINELS: '[nothex]:1', REDIS_SENTINEL_NAME: 'm' }).setting).toBe('REDIS_SENTINELS');
    expect(errorOf({ ...base, REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'my master' }).setting).toBe('REDIS_SENTINEL_NAME');
  });

  it('RATE_LIMIT_ON_STORE_ERROR is open by default, or closed', () => {
    expect(hardening({}).rateLimitOnStoreError).toBe('open');
    expect(hardening({ RATE_LIMIT_ON_STORE_ERROR: 'closed' }).rateLimitOnStoreError).toBe('closed');
  });

  it('the store target: Sentinel when REDIS_SENTINELS is set (REDIS_URL then only for auth and db), else REDIS_URL, else none', () => {
    expect(redisTarget(loadConfig(base))).toBeUndefined();
    expect(redisTarget(loadConfig({ ...base, REDIS_URL: 'redis://r:6379/2' }))).toEqual({ url: 'redis://r:6379/2' });
    expect(
      redisTarget(loadConfig({ ...base, REDIS_URL: 'redis://:pw@ignored:1/3', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'mymaster' })),
    ).toEqual({ url: 'redis://:pw@ignored:1/3', sentinels: [{ host: 's', port: 26379 }], sentinelName: 'mymaster' });
  });

  it('local mode refuses the Redis settings (deployment-only): the server stops instead of starting local mode', () => {
    for (const [name, value] of [
      ['REDIS_KEY_PREFIX', 'x:'],
      ['REDIS_SENTINELS', 'a:26379'],
      ['REDIS_SENTINEL_NAME', 'mymaster'],
      ['RATE_LIMIT_ON_STORE_ERROR', 'closed'],
    ] as const) {
      const err = errorOf({ [name]: value });
      expect(err.setting).toBe('FIREBASE_PROJECT_ID');
      expect(err.message).toContain(name);
    }
  });
});
