import { ConfigError, loadConfig } from '../../src/config';

const base = { FIREBASE_PROJECT_ID: 'my-app-12345', GOOGLE_CLIENT_IDS: '123-abc.apps.googleusercontent.com' };
const TOKEN = 'bWV0cmljcy1zY3JhcGUtY3JlZGVudGlhbC0xMjM0NTY3';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...base, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.message);
    throw err;
  }
  return [];
}

describe('METRICS_* settings', () => {
  it('defaults: on, on the main port, no token', () => {
    expect(loadConfig(base).metrics).toEqual({ enabled: true, host: '127.0.0.1' });
  });

  it('reads METRICS_ENABLED, METRICS_PORT, METRICS_HOST and METRICS_TOKEN', () => {
    expect(loadConfig({ ...base, METRICS_ENABLED: 'false' }).metrics.enabled).toBe(false);
    expect(loadConfig({ ...base, METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0', METRICS_TOKEN: TOKEN }).metrics).toEqual({
      enabled: true,
      port: 9464,
      host: '0.0.0.0',
      token: TOKEN,
    });
    expect(loadConfig({ ...base, METRICS_PORT: '9464' }).metrics.host).toBe('127.0.0.1');
  });

  it('in local mode too', () => {
    expect(loadConfig({ METRICS_PORT: '9464' }).metrics.port).toBe(9464);
  });

  it('names every bad setting', () => {
    expect(problems({ METRICS_ENABLED: 'maybe' })).toEqual([expect.stringMatching(/^METRICS_ENABLED: must be true or false/)]);
    expect(problems({ METRICS_PORT: '70000' })).toEqual([expect.stringMatching(/^METRICS_PORT: must be between 0 and 65535/)]);
    expect(problems({ METRICS_PORT: '8080' })).toEqual([expect.stringMatching(/^METRICS_PORT: must differ from PORT/)]);
    expect(problems({ METRICS_HOST: '10.0.0.1' })).toEqual([expect.stringMatching(/^METRICS_HOST: applies only to the metrics listener of METRICS_PORT/)]);
    expect(problems({ METRICS_TOKEN: 'short' })).toEqual([expect.stringMatching(/^METRICS_TOKEN: must be at least 32 characters/)]);
    expect(problems({ METRICS_TOKEN: TOKEN, ADMIN_API_TOKEN: TOKEN })).toEqual([expect.stringMatching(/^METRICS_TOKEN: must not be the same secret as ADMIN_API_TOKEN/)]);
    // Collected with the others, not one per restart.
    expect(problems({ METRICS_PORT: 'x', METRICS_TOKEN: 'short', PORT: 'y' })).toHaveLength(3);
  });
});
