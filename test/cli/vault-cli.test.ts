import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runVaultCli } from '../../src/cli/vault';
import { loadConfig } from '../../src/config';
import { createGoogleVault } from '../../src/compose/vault';
import { parseDataKeyFile } from '../../src/vault/data-keys';
import { FakeGoogle } from '../../testkit/fake-google';
import { FakeOAuth } from '../../testkit/fake-oauth';
import { configuredEnv, keysDirWith } from '../../testkit/harness';
import { auditEntries, keysCli } from '../../testkit/keys-cli';
import { vaultEnv } from '../../testkit/vault';

describe('npm run keys -- vault-key create | rotate', () => {
  it('create writes KEYS_DIR/vault-keys.json 0600 and audits it; a second create is refused', async () => {
    const keysDir = mkdtempSync(path.join(tmpdir(), 'fb-keys-'));
    const created = await keysCli(['vault-key', 'create'], { KEYS_DIR: keysDir });
    expect(created.code).toBe(0);
    const file = path.join(keysDir, 'vault-keys.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const parsed = parseDataKeyFile(readFileSync(file, 'utf8'), file);
    const again = await keysCli(['vault-key', 'create'], { KEYS_DIR: keysDir });
    expect(again.code).toBe(1);
    expect(again.stderr.join('\n')).toMatch(/already exists/);
    const audit = auditEntries(path.join(keysDir, 'audit.log'));
    expect(audit.map((e) => [e.command, e.outcome])).toEqual([
      ['vault-key create', 'ok'],
      ['vault-key create', 'failed'],
    ]);
    expect(audit[0]?.kid).toBe(parsed.active);
    expect(readFileSync(path.join(keysDir, 'audit.log'), 'utf8')).not.toContain(parsed.keys[0]?.key as string);
    expect((await keysCli(['vault-key', 'spin'], { KEYS_DIR: keysDir })).code).toBe(2);
  });

  it('rotate re-encrypts the SQLite vault in DATA_DIR and audits every step', async () => {
    const keysDir = mkdtempSync(path.join(tmpdir(), 'fb-keys-'));
    const dataDir = mkdtempSync(path.join(tmpdir(), 'fb-data-'));
    await keysCli(['vault-key', 'create'], { KEYS_DIR: keysDir });
    const file = path.join(keysDir, 'vault-keys.json');
    const before = parseDataKeyFile(readFileSync(file, 'utf8'), file).active;
    const run = await keysCli(['vault-key', 'rotate'], { KEYS_DIR: keysDir, DATA_DIR: dataDir });
    expect(run.stderr).toEqual([]);
    expect(run.code).toBe(0);
    const after = parseDataKeyFile(readFileSync(file, 'utf8'), file);
    expect(after.keys.map((k) => k.id)).toEqual([after.active]);
    expect(after.active).not.toBe(before);
    const details = auditEntries(path.join(keysDir, 'audit.log')).map((e) => e.detail);
    expect(details).toEqual(expect.arrayContaining([expect.stringMatching(/^new active data key/), `retired ${before}`]));
    expect(existsSync(path.join(dataDir, 'firebridge.db'))).toBe(true);
  }, 15_000);
});

describe('npm run vault -- list | unlink, and createGoogleVault(config)', () => {
  let fake: FakeGoogle;
  let oauth: FakeOAuth;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    oauth = await FakeOAuth.start();
  });
  afterAll(async () => {
    await Promise.all([fake.close(), oauth.close()]);
  });

  it('list shows uid and scopes, never a token; unlink revokes and deletes; the library reads the same vault', async () => {
    const keysDir = keysDirWith(fake.createServiceAccount());
    await keysCli(['vault-key', 'create'], { KEYS_DIR: keysDir });
    const env = configuredEnv(fake, keysDir, vaultEnv(oauth, path.join(keysDir, 'vault-keys.json')));
    const library = await createGoogleVault(loadConfig(env));
    await library.link('google:7', '7', oauth.issueCode({ sub: '7' }), '');
    const refreshToken = [...oauth.refreshTokens.keys()].at(-1) as string;
    expect(await library.linkedScopes('google:7')).toEqual(['openid', 'https://www.googleapis.com/auth/drive.file']);
    expect((await library.accessTokenFor('google:7', { scope: 'openid' })).accessToken).toMatch(/^ya29\./);

    const out: string[] = [];
    const io = { env, cwd: process.cwd(), stdout: (l: string) => out.push(l), stderr: (l: string) => out.push(l), fetch: globalThis.fetch, clock: Date.now };
    expect(await runVaultCli(['list'], io)).toBe(0);
    expect(out.join('\n')).toMatch(/google:7\topenid https:\/\/www\.googleapis\.com\/auth\/drive\.file\t\d{4}-/);
    expect(out.join('\n')).not.toContain(refreshToken);
    expect(await runVaultCli(['unlink', 'google:7'], io)).toBe(0);
    expect(oauth.refreshTokens.get(refreshToken)?.revoked).toBe(true);
    expect(await library.linkedScopes('google:7')).toBeUndefined();
    expect(await runVaultCli(['frobnicate'], io)).toBe(2);
    await library.close();
  });
});
