import { ConfigError, loadConfig } from '../../src/config';

const base = {
  FIREBASE_PROJECT_ID: 'my-app-12345',
  GOOGLE_CLIENT_IDS: '123-abc.apps.googleusercontent.com',
};

function problemsOf(env: Record<string, string>): ConfigError[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('loadConfig did not throw');
}

describe('device sign-in settings', () => {
  it('defaults: off in configured mode, 300 s, 5 attempts, no notification, 5 per device and 30 per IP a minute, a generated secret', () => {
    expect(loadConfig(base).device).toEqual({
      enabled: false,
      ttlSeconds: 300,
      maxAttempts: 5,
      notification: false,
      title: 'Sign-in code',
      body: 'Your sign-in code is {code}',
      rateLimitPerDevicePerMinute: 5,
      rateLimitPerIpPerMinute: 30,
    });
  });

  it('reads every setting', () => {
    const secret = 'q3V9zX2mL7pR4tW8yB1nC6fH0jK5sD9g';
    const device = loadConfig({
      ...base,
      DEVICE_SIGN_IN: 'true',
      DEVICE_CODE_SECRET: secret,
      DEVICE_CODE_TTL_SECONDS: '900',
      DEVICE_CODE_MAX_ATTEMPTS: '3',
      DEVICE_CODE_NOTIFICATION: 'true',
      DEVICE_CODE_TITLE: 'Your code',
      DEVICE_CODE_BODY: '{code} is your code',
      RATE_LIMIT_DEVICE_PER_MINUTE: '0',
      RATE_LIMIT_DEVICE_IP_PER_MINUTE: '100',
    }).device;
    expect(device).toEqual({
      enabled: true,
      secret,
      ttlSeconds: 900,
      maxAttempts: 3,
      notification: true,
      title: 'Your code',
      body: '{code} is your code',
      rateLimitPerDevicePerMinute: 0,
      rateLimitPerIpPerMinute: 100,
    });
  });

  it('DEVICE_SIGN_IN is on by default in local mode only, and must be a boolean', () => {
    expect(loadConfig({}).device.enabled).toBe(true);
    expect(loadConfig({ DEVICE_SIGN_IN: 'false' }).device.enabled).toBe(false);
    expect(problemsOf({ ...base, DEVICE_SIGN_IN: 'maybe' }).map((p) => p.setting)).toEqual(['DEVICE_SIGN_IN']);
  });

  it('every bad setting is reported at once, each naming itself', () => {
    const problems = problemsOf({
      ...base,
      DEVICE_CODE_SECRET: 'short',
      DEVICE_CODE_TTL_SECONDS: '59',
      DEVICE_CODE_MAX_ATTEMPTS: '0',
      DEVICE_CODE_NOTIFICATION: 'maybe',
      DEVICE_CODE_TITLE: 'x'.repeat(201),
      RATE_LIMIT_DEVICE_PER_MINUTE: '-1',
      RATE_LIMIT_DEVICE_IP_PER_MINUTE: 'many',
    });
    expect(problems.map((p) => p.setting).sort()).toEqual([
      'DEVICE_CODE_MAX_ATTEMPTS',
      'DEVICE_CODE_NOTIFICATION',
      'DEVICE_CODE_SECRET',
      'DEVICE_CODE_TITLE',
      'DEVICE_CODE_TTL_SECONDS',
      'RATE_LIMIT_DEVICE_IP_PER_MINUTE',
      'RATE_LIMIT_DEVICE_PER_MINUTE',
    ]);
    expect(problemsOf({ ...base, DEVICE_CODE_TTL_SECONDS: '901' })[0]?.setting).toBe('DEVICE_CODE_TTL_SECONDS');
  });

  it('a guessable DEVICE_CODE_SECRET is refused (secretWeakness)', () => {
    for (const weak of ['a'.repeat(40), 'abcd'.repeat(10), '0123456789012345678901234567890123']) {
      const [problem] = problemsOf({ ...base, DEVICE_CODE_SECRET: weak });
      expect(problem?.setting).toBe('DEVICE_CODE_SECRET');
    }
  });

  it('DEVICE_CODE_SECRET is deployment-only: local mode does not start with it', () => {
    const [problem] = problemsOf({ DEVICE_CODE_SECRET: 'q3V9zX2mL7pR4tW8yB1nC6fH0jK5sD9g' });
    expect(problem?.setting).toBe('FIREBASE_PROJECT_ID');
    expect(problem?.message).toContain('DEVICE_CODE_SECRET');
    // The other device settings are fine in local mode.
    expect(loadConfig({ DEVICE_CODE_TTL_SECONDS: '120', DEVICE_CODE_NOTIFICATION: 'true' }).mode).toBe('local');
  });
});
