import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';

describe('LOCAL_PROJECT_ID', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'firebridge-localproject-'));
  const local = (extra: Record<string, string>) => loadConfig({ LOCAL_STATE_DIR: path.join(tmp, '.local'), KEYS_DIR: path.join(tmp, 'nokeys'), ...extra }, tmp);

  it('defaults to demo-firebridge; a demo- project ID is taken', () => {
    expect(local({}).projectId).toBe('demo-firebridge');
    expect(local({ LOCAL_PROJECT_ID: 'demo-my-app' }).projectId).toBe('demo-my-app');
  });

  it.each(['my-app-12345', 'demo-', 'demo-UPPER', 'demo-x_y', 'demo-ends-with-', `demo-${'a'.repeat(30)}`])('refuses %p, naming the setting', (value) => {
    let error: unknown;
    try {
      local({ LOCAL_PROJECT_ID: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe('LOCAL_PROJECT_ID');
    expect((error as Error).message).toMatch(/^LOCAL_PROJECT_ID: .*must start with demo-/);
  });

  it('is checked in configured mode too (it may stay in a deployment .env), and ignored there', () => {
    const configured = { NODE_ENV: 'test', FIREBASE_PROJECT_ID: 'my-app-12345', GOOGLE_CLIENT_IDS: 'a', KEYS_DIR: path.join(tmp, 'nokeys') };
    expect(loadConfig({ ...configured, LOCAL_PROJECT_ID: 'demo-x1' }).projectId).toBe('my-app-12345');
    expect(() => loadConfig({ ...configured, LOCAL_PROJECT_ID: 'prod-app' })).toThrow(/LOCAL_PROJECT_ID/);
  });
});
