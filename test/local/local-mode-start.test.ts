import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { DEPLOYMENT_ONLY_SETTINGS, isLoopbackHost } from '../../src/config/local-mode';
import { reachableUrls } from '../../src/local/local-exposure';
import { FakeGoogle } from '../../testkit/fake-google';
import { keysDirWith } from '../../testkit/harness';
import { runToExit } from '../../testkit/spawn-server';

/** A fresh working directory (its `keys/` is the default KEYS_DIR), empty unless told otherwise. */
function workdir(): string {
  return mkdtempSync(path.join(tmpdir(), 'firebridge-cwd-'));
}

function errorOf(env: Record<string, string>, cwd: string): ConfigError {
  try {
    loadConfig(env, cwd);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('loadConfig did not throw: local mode would have started');
}

function snapshot(dir: string): string {
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const stat = statSync(path.join(dir, name));
      return `${name}:${stat.mode}:${stat.size}:${stat.mtimeMs}:${readFileSync(path.join(dir, name), 'utf8')}`;
    })
    .join('\n');
}

describe('local mode starts only on a bare environment', () => {
  let fake: FakeGoogle;
  let realKeysDir: string;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    realKeysDir = keysDirWith(fake.createServiceAccount());
  });
  afterAll(() => fake.close());

  /** What the review found: a deployment's settings, its project settings missing. */
  const deploymentEnv = (): Record<string, string> => ({
    HOST: '0.0.0.0',
    KEYS_DIR: realKeysDir,
    REDIS_URL: 'redis://10.0.0.5:6379/0',
    TRUST_PROXY: 'loopback,10.0.0.0/8',
    GOOGLE_HOSTED_DOMAINS: 'kodak.example',
    ALLOWED_EMAILS: 'ada@kodak.example',
    ALLOWED_EMAIL_DOMAINS: 'kodak.example',
    GOOGLE_AZP_ALLOWLIST: '123-android.apps.googleusercontent.com',
    GOOGLE_APPLICATION_CREDENTIALS: '/etc/firebridge/adc.json',
  });

  it.each([[undefined], ['staging'], ['prd']])(
    "a deployment's settings with NODE_ENV=%p: refused, naming every one of them",
    (nodeEnv) => {
      const env = deploymentEnv();
      if (nodeEnv !== undefined) env.NODE_ENV = nodeEnv;
      const err = errorOf(env, workdir());
      expect(err.setting).toBe('FIREBASE_PROJECT_ID');
      for (const name of [
        'KEYS_DIR',
        'REDIS_URL',
        'TRUST_PROXY',
        'GOOGLE_HOSTED_DOMAINS',
        'ALLOWED_EMAILS',
        'ALLOWED_EMAIL_DOMAINS',
        'GOOGLE_AZP_ALLOWLIST',
        'GOOGLE_APPLICATION_CREDENTIALS',
      ]) {
        expect(err.message).toContain(name);
      }
      expect(err.message).toContain(`${realKeysDir} holds a service-account key file`);
      if (nodeEnv !== undefined) expect(err.message).toContain(`NODE_ENV=${nodeEnv}`);
    },
  );

  it('the one list holds every deployment setting the review named (and the earlier ones)', () => {
    expect(DEPLOYMENT_ONLY_SETTINGS).toEqual(
      expect.arrayContaining([
        'SERVICE_ACCOUNT_EMAIL',
        'ADMIN_API_TOKEN',
        'CHECK_REVOKED',
        'REDIS_URL',
        'TRUST_PROXY',
        'GOOGLE_HOSTED_DOMAINS',
        'ALLOWED_EMAILS',
        'ALLOWED_EMAIL_DOMAINS',
        'GOOGLE_AZP_ALLOWLIST',
        'GOOGLE_APPLICATION_CREDENTIALS',
      ]),
    );
  });

  it.each(DEPLOYMENT_ONLY_SETTINGS.map((name) => [name]))('%s alone (even empty) stops local mode, named', (name) => {
    for (const value of ['x', '']) {
      const err = errorOf({ [name]: value }, workdir());
      expect(err.setting).toBe('FIREBASE_PROJECT_ID');
      expect(err.message).toContain(name);
    }
  });

  it('a NODE_ENV other than a developer one stops local mode; development, dev, test, local do not', () => {
    for (const nodeEnv of ['staging', 'prd', 'Staging', 'qa', 'preprod']) {
      expect(errorOf({ NODE_ENV: nodeEnv }, workdir()).message).toContain(`NODE_ENV=${nodeEnv}`);
    }
    for (const nodeEnv of ['development', 'Development', 'dev', 'test', 'local', '']) {
      expect(loadConfig({ NODE_ENV: nodeEnv }, workdir()).mode).toBe('local');
    }
    expect(loadConfig({}, workdir()).mode).toBe('local');
  });

  it('key files in the default keys/ folder stop local mode even when KEYS_DIR is not set', () => {
    const cwd = workdir();
    mkdirSync(path.join(cwd, 'keys'));
    writeFileSync(path.join(cwd, 'keys', 'README.md'), 'keys go here\n');
    writeFileSync(path.join(cwd, 'keys', '.draft.json'), '{}'); // hidden: not a key file (isKeyFileName)
    expect(loadConfig({}, cwd).mode).toBe('local');

    writeFileSync(path.join(cwd, 'keys', 'abc123.json'), '{}'); // any visible .json counts, valid or not
    const err = errorOf({}, cwd);
    expect(err.setting).toBe('FIREBASE_PROJECT_ID');
    expect(err.message).toContain(`KEYS_DIR (${path.join(cwd, 'keys')} holds a service-account key file)`);
  });

  it('a keyring manifest alone also counts; a KEYS_DIR that is empty or missing does not', () => {
    const cwd = workdir();
    const dir = path.join(cwd, 'mounted');
    mkdirSync(dir);
    expect(loadConfig({ KEYS_DIR: dir }, cwd).mode).toBe('local');
    expect(loadConfig({ KEYS_DIR: path.join(cwd, 'nowhere') }, cwd).mode).toBe('local');
    writeFileSync(path.join(dir, 'keyring.json'), '{}');
    expect(errorOf({ KEYS_DIR: dir }, cwd).message).toContain(`${dir} holds keyring.json`);
  });

  it('a non-loopback HOST needs LOCAL_MODE_PUBLIC=true; loopback addresses do not', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'my-laptop.lan', '::ffff:10.0.0.1']) {
      const err = errorOf({ HOST: host }, workdir());
      expect(err.setting).toBe('HOST');
      expect(err.message).toContain('LOCAL_MODE_PUBLIC=true');
      const config = loadConfig({ HOST: host, LOCAL_MODE_PUBLIC: 'true' }, workdir());
      expect(config).toMatchObject({ mode: 'local', host });
    }
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', '0:0:0:0:0:0:0:1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host)).toBe(true);
      expect(loadConfig({ HOST: host }, workdir()).host).toBe(host);
    }
    expect(errorOf({ HOST: '0.0.0.0', LOCAL_MODE_PUBLIC: 'maybe' }, workdir()).problems.map((p) => p.setting)).toEqual([
      'LOCAL_MODE_PUBLIC',
      'HOST',
    ]);
  });

  it('LOCAL_STATE_DIR may not be KEYS_DIR or inside it (also through a symlink, also the default keys/)', () => {
    const cwd = workdir();
    const keys = path.join(cwd, 'keys');
    mkdirSync(keys);
    for (const stateDir of [keys, path.join(keys, '.local'), path.join(keys, 'a', 'b')]) {
      const err = errorOf({ LOCAL_STATE_DIR: stateDir }, cwd);
      expect(err.setting).toBe('LOCAL_STATE_DIR');
      expect(err.message).toContain(keys);
    }
    expect(errorOf({ LOCAL_STATE_DIR: 'keys/.local' }, cwd).setting).toBe('LOCAL_STATE_DIR');
    const elsewhere = path.join(cwd, 'other');
    mkdirSync(elsewhere);
    expect(errorOf({ KEYS_DIR: elsewhere, LOCAL_STATE_DIR: path.join(elsewhere, 'state') }, cwd).setting).toBe('LOCAL_STATE_DIR');
    symlinkSync(keys, path.join(cwd, 'link-to-keys'));
    expect(errorOf({ LOCAL_STATE_DIR: path.join(cwd, 'link-to-keys', 'state') }, cwd).setting).toBe('LOCAL_STATE_DIR');
    // Beside KEYS_DIR, or a folder whose name merely starts like it, is fine.
    expect(loadConfig({ LOCAL_STATE_DIR: path.join(cwd, 'keys-local') }, cwd).mode).toBe('local');
    expect(loadConfig({}, cwd).mode).toBe('local');
  });

  it("the server refuses a deployment's settings (exit 78, each named, no local mode) and leaves KEYS_DIR untouched", async () => {
    const before = snapshot(realKeysDir);
    const stateDir = path.join(workdir(), '.local');
    const { code, output } = await runToExit({ ...deploymentEnv(), NODE_ENV: 'staging', LOCAL_STATE_DIR: stateDir });
    expect(code).toBe(78);
    expect(output).toMatch(/firebridge: invalid configuration: FIREBASE_PROJECT_ID: is required: settings only a deployment has/);
    for (const name of ['NODE_ENV=staging', 'KEYS_DIR', 'REDIS_URL', 'TRUST_PROXY', 'GOOGLE_HOSTED_DOMAINS', 'GOOGLE_APPLICATION_CREDENTIALS']) {
      expect(output).toContain(name);
    }
    expect(output).not.toContain('LOCAL MODE');
    expect(output).not.toContain('"msg":"listening"');
    expect(snapshot(realKeysDir)).toBe(before);
    expect(() => statSync(stateDir)).toThrow(); // nothing was generated
  }, 20_000);

  it('the server refuses HOST=0.0.0.0 in local mode without LOCAL_MODE_PUBLIC (exit 78)', async () => {
    // An empty KEYS_DIR: keys in this checkout's keys/ would stop local mode before HOST is looked at.
    const { code, output } = await runToExit({ HOST: '0.0.0.0', KEYS_DIR: workdir(), LOCAL_STATE_DIR: path.join(workdir(), '.local') });
    expect(code).toBe(78);
    expect(output).toMatch(/firebridge: invalid configuration: HOST: "0\.0\.0\.0" is not a loopback address.*LOCAL_MODE_PUBLIC=true/);
    expect(output).not.toContain('"msg":"listening"');
  }, 20_000);

  it('with LOCAL_MODE_PUBLIC=true and a non-loopback HOST, the log says loudly that it is reachable, and where', async () => {
    // 192.0.2.1 (TEST-NET-1) is on no interface: the warning is logged, then listening fails, so nothing is exposed.
    const { code, output } = await runToExit({
      HOST: '192.0.2.1',
      LOCAL_MODE_PUBLIC: 'true',
      KEYS_DIR: workdir(),
      LOCAL_STATE_DIR: path.join(workdir(), '.local'),
      LOG_LEVEL: 'warn',
    });
    const line = output.split('\n').find((l) => l.includes('LOCAL MODE IS REACHABLE FROM THE NETWORK'));
    expect(line).toBeDefined();
    const entry = JSON.parse(line as string) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 40, host: '192.0.2.1', localModePublic: true, reachableAt: ['http://192.0.2.1:0'] });
    expect(entry.msg).toMatch(/mint tokens for ANY identity/);
    expect(code).toBe(1);
  }, 20_000);

  it("a wildcard HOST is reported with this machine's network addresses", () => {
    const urls = reachableUrls('0.0.0.0', 8080);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) {
      expect(url).toMatch(/^http:\/\/\d+\.\d+\.\d+\.\d+:8080$/);
      expect(url).not.toMatch(/^http:\/\/127\./);
    }
    expect(reachableUrls('fd00::1', 9)).toEqual(['http://[fd00::1]:9']);
  });
});
