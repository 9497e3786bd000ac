import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, loadKeysAdminConfig } from '../../src/config';
import { DEFAULT_AUDIT_MAX_BYTES, auditSettings } from '../../src/config/audit';

function problemsOf(run: () => unknown): ConfigError[] {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

function keyFile(content: string, mode = 0o600): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-audit-key-')), 'audit.key');
  writeFileSync(file, content, { mode });
  chmodSync(file, mode);
  return file;
}

describe('audit settings', () => {
  it('defaults: DATA_DIR/audit.log (DATA_DIR default ./data), SHA-256 chain, no email, 10 MiB rotation', () => {
    expect(auditSettings({}, '/srv/app')).toEqual({ file: '/srv/app/data/audit.log', includeEmail: false, maxBytes: DEFAULT_AUDIT_MAX_BYTES });
    expect(auditSettings({ DATA_DIR: '/var/lib/fb' }, '/srv/app').file).toBe('/var/lib/fb/audit.log');
    expect(auditSettings({ AUDIT_LOG: 'logs/a.log' }, '/srv/app').file).toBe('/srv/app/logs/a.log');
    expect(auditSettings({ AUDIT_LOG: '-' }, '/srv/app').file).toBe('-');
    expect(loadConfig({ NODE_ENV: 'test' }, mkdtempSync(path.join(tmpdir(), 'fb-cwd-'))).audit.includeEmail).toBe(false);
  });

  it('reads AUDIT_INCLUDE_EMAIL, AUDIT_MAX_BYTES (0 = never) and the HMAC key', () => {
    const file = keyFile(`${'ab'.repeat(32)}\n`);
    const settings = auditSettings({ AUDIT_INCLUDE_EMAIL: 'true', AUDIT_MAX_BYTES: '0', AUDIT_HMAC_KEY_FILE: file }, '/');
    expect(settings).toMatchObject({ includeEmail: true, maxBytes: 0, hmacKeyFile: file });
    expect(settings.hmacKey?.toString()).toBe('ab'.repeat(32));
  });

  it('every bad setting is named: a key file readable by others, too short, missing; a bad size or boolean', () => {
    const wide = keyFile('k'.repeat(40), 0o644);
    const short = keyFile('short');
    expect(problemsOf(() => auditSettings({ AUDIT_HMAC_KEY_FILE: wide }, '/')).map((p) => p.message)).toEqual([
      expect.stringMatching(/^AUDIT_HMAC_KEY_FILE: .* is readable by other users \(mode 644\); chmod 600 it/),
    ]);
    expect(problemsOf(() => auditSettings({ AUDIT_HMAC_KEY_FILE: short }, '/'))[0]?.message).toMatch(/AUDIT_HMAC_KEY_FILE: .* holds 5 bytes; at least 32/);
    expect(problemsOf(() => auditSettings({ AUDIT_HMAC_KEY_FILE: '/nonexistent/audit.key' }, '/'))[0]?.message).toMatch(/cannot be read \(ENOENT\)/);
    const all = problemsOf(() => loadConfig({ NODE_ENV: 'test', AUDIT_MAX_BYTES: '100', AUDIT_INCLUDE_EMAIL: 'maybe', AUDIT_HMAC_KEY_FILE: ' ' }));
    expect(all.map((p) => p.setting).sort()).toEqual(['AUDIT_HMAC_KEY_FILE', 'AUDIT_INCLUDE_EMAIL', 'AUDIT_MAX_BYTES']);
    // The key's content is never quoted.
    expect(problemsOf(() => auditSettings({ AUDIT_HMAC_KEY_FILE: short }, '/'))[0]?.message).not.toContain('short\n');
  });

  it('the keys script takes the chain settings too (its file stays KEYS_AUDIT_LOG)', () => {
    const file = keyFile('k'.repeat(40));
    const admin = loadKeysAdminConfig({ KEYS_DIR: 'secrets', AUDIT_HMAC_KEY_FILE: file, AUDIT_MAX_BYTES: '4096' }, '/srv/app');
    expect(admin.auditLog).toBe('/srv/app/secrets/audit.log');
    expect(admin.auditChain).toMatchObject({ maxBytes: 4096, hmacKey: Buffer.from('k'.repeat(40)) });
  });
});
