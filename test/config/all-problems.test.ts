import { ConfigError, loadConfig } from '../../src/config';
import { runToExit } from '../../testkit/spawn-server';

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

describe('every bad setting is reported at once', () => {
  it('an environment with three bad settings reports all three, each naming its setting', () => {
    const err = errorOf({ ...base, PORT: 'eighty', LOG_LEVEL: 'loud', CLOCK_SKEW_SECONDS: '900' });
    expect(err.problems.map((problem) => problem.setting)).toEqual(['PORT', 'LOG_LEVEL', 'CLOCK_SKEW_SECONDS']);
    // Still one ConfigError as before: `setting` is the first one's, the message names every one.
    expect(err.setting).toBe('PORT');
    expect(err.message.split('\n')).toEqual([
      'PORT: must be a whole number, got "eighty"',
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'CLOCK_SKEW_SECONDS: must be between 0 and 300, got 900',
    ]);
    for (const problem of err.problems) {
      expect(problem).toBeInstanceOf(ConfigError);
      expect(problem.problems).toEqual([problem]);
    }
  });

  it('collects across every group of settings: project, hardening, keyring, Google APIs', () => {
    const err = errorOf({
      FIREBASE_PROJECT_ID: 'Bad_Project',
      TRUST_PROXY: 'everyone',
      REDIS_URL: 'http://redis',
      ADMIN_API_TOKEN: 'short',
      NONCE_TTL_SECONDS: '5',
      SERVICE_ACCOUNT_EMAIL: 'not-an-email',
      KEYS_POLL_INTERVAL_MS: '-1',
      GCE_METADATA_HOST: 'bad host',
      GOOGLE_TOKEN_URL: 'http://tokens.example.com',
      GOOGLE_API_TIMEOUT_MS: '1',
    });
    expect(err.problems.map((problem) => problem.setting).sort()).toEqual(
      [
        'ADMIN_API_TOKEN',
        'FIREBASE_PROJECT_ID',
        'GCE_METADATA_HOST',
        'GOOGLE_API_TIMEOUT_MS',
        'GOOGLE_CLIENT_IDS',
        'GOOGLE_TOKEN_URL',
        'KEYS_POLL_INTERVAL_MS',
        'NONCE_TTL_SECONDS',
        'REDIS_URL',
        'SERVICE_ACCOUNT_EMAIL',
        'TRUST_PROXY',
      ].sort(),
    );
  });

  it('production with nothing set names both required settings', () => {
    const err = errorOf({ NODE_ENV: 'production' });
    expect(err.problems.map((problem) => problem.setting)).toEqual(['FIREBASE_PROJECT_ID', 'GOOGLE_CLIENT_IDS']);
  });

  it('one bad setting is still exactly one problem, message as before', () => {
    const err = errorOf({ ...base, PORT: '70000' });
    expect(err.problems).toEqual([err]);
    expect(err.message).toBe('PORT: must be between 0 and 65535, got 70000');
  });

  it('ConfigError.all flattens nested lists and returns a single problem unchanged', () => {
    const a = new ConfigError('A', 'bad');
    const b = new ConfigError('B', 'worse');
    const c = new ConfigError('C', 'worst');
    expect(ConfigError.all([a])).toBe(a);
    const nested = ConfigError.all([ConfigError.all([a, b]), c]);
    expect(nested.problems).toEqual([a, b, c]);
    expect(nested.setting).toBe('A');
    expect(nested.message).toBe('A: bad\nB: worse\nC: worst');
  });

  it('the server prints every problem, one line each, and exits 78', async () => {
    const { code, output } = await runToExit({ ...base, PORT: 'eighty', LOG_LEVEL: 'loud', CLOCK_SKEW_SECONDS: '900' });
    expect(code).toBe(78);
    const lines = output.split('\n').filter((line) => line.startsWith('firebridge: invalid configuration: '));
    expect(lines).toEqual([
      'firebridge: invalid configuration: PORT: must be a whole number, got "eighty"',
      'firebridge: invalid configuration: LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'firebridge: invalid configuration: CLOCK_SKEW_SECONDS: must be between 0 and 300, got 900',
    ]);
  }, 20_000);
});
