import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspectKeyring } from '../../src/keys/keyring';
import { MANIFEST_FILE } from '../../src/keys/manifest';
import { parseKeysArgs } from '../../src/cli/keys';
import { FakeGoogle, type TestServiceAccount } from '../../testkit/fake-google';
import { keysDirWith } from '../../testkit/harness';
import { auditEntries, downloadedKeyFile, keysCli } from '../../testkit/keys-cli';

/** Every file of the directory with its content and mode: "nothing changed" means equal snapshots. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((name) => name !== 'audit.log' && name !== 'audit.log.head')
      .sort()
      .map((name) => [name, `${(statSync(path.join(dir, name)).mode & 0o777).toString(8)}:${readFileSync(path.join(dir, name), 'utf8')}`]),
  );
}

describe('npm run keys -- <command>', () => {
  let fake: FakeGoogle;
  let first: TestServiceAccount;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    first = fake.createServiceAccount();
  });
  afterAll(() => fake.close());

  const envFor = (dir: string, extra: Record<string, string> = {}) => ({ KEYS_DIR: dir, FIREBASE_PROJECT_ID: fake.projectId, ...extra });

  it('list: every key with kid, service account, when added, and which one signs', async () => {
    const dir = keysDirWith(first);
    const run = await keysCli(['list'], envFor(dir));
    expect(run.code).toBe(0);
    expect(run.stdout).toHaveLength(1);
    expect(run.stdout[0]).toMatch(new RegExp(`^\\* signing +${first.key.kid} +${first.clientEmail} +added \\d{4}-\\d\\d-\\d\\dT`));
  });

  it('rotate --from installs the key 0600, makes it sign, keeps the previous one; audited', async () => {
    const dir = keysDirWith(first);
    const next = fake.createServiceAccount();
    const run = await keysCli(['rotate', '--from', downloadedKeyFile(next)], envFor(dir));
    expect(run.stderr).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout[0]).toContain(`key ${next.key.kid}`);
    const ring = inspectKeyring(dir, fake.projectId);
    expect(ring.active?.kid).toBe(next.key.kid);
    expect(ring.entries.map((e) => e.kid).sort()).toEqual([first.key.kid, next.key.kid].sort());
    expect(statSync(path.join(dir, `${next.key.kid}.json`)).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, MANIFEST_FILE)).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((n) => n.startsWith('.tmp'))).toEqual([]);

    const list = await keysCli(['list'], envFor(dir));
    expect(list.stdout.find((l) => l.includes(next.key.kid))).toMatch(/^\* signing/);
    expect(list.stdout.find((l) => l.includes(first.key.kid))).toMatch(/^ {2}waiting/);

    const audit = auditEntries(path.join(dir, 'audit.log'));
    expect(audit.find((e) => e.command === 'rotate --from')).toMatchObject({ kid: next.key.kid, outcome: 'ok', who: expect.any(String), time: expect.any(String) });
    expect(readFileSync(path.join(dir, 'audit.log'), 'utf8')).not.toContain('PRIVATE KEY');
    expect(statSync(path.join(dir, 'audit.log')).mode & 0o777).toBe(0o600);
  });

  it('rotate --from a bad file changes nothing and exits non-zero with one line', async () => {
    const dir = keysDirWith(first);
    const before = snapshot(dir);
    const other = fake.createServiceAccount('other-project-1');
    const unreadableDir = mkdtempDir();
    symlinkSync(path.join(unreadableDir, 'nowhere'), path.join(unreadableDir, 'key.json'));
    const cases: Array<[string, string]> = [
      ['junk', downloadedKeyFile(first, '{"type": "service_account", oops')],
      ['wrong project', downloadedKeyFile(other)],
      ['truncated PEM', downloadedKeyFile(first, JSON.stringify({ ...first.json, private_key_id: 'x1', private_key: first.json.private_key!.slice(0, 200) }))],
      ['not a service account', downloadedKeyFile(first, JSON.stringify({ type: 'authorized_user', client_id: 'x' }))],
      ['unreadable', path.join(unreadableDir, 'key.json')],
      ['already installed', downloadedKeyFile(first)],
    ];
    for (const [name, file] of cases) {
      const run = await keysCli(['rotate', '--from', file], envFor(dir));
      expect({ name, code: run.code }).toEqual({ name, code: 1 });
      expect(run.stderr).toHaveLength(1);
      expect(run.stderr[0]).toMatch(/^keys: rotate --from failed: /);
      expect(run.stderr[0]).not.toContain('PRIVATE KEY');
      expect(snapshot(dir)).toEqual(before);
    }
    expect(inspectKeyring(dir, fake.projectId).active?.kid).toBe(first.key.kid);
    const audit = auditEntries(path.join(dir, 'audit.log'));
    expect(audit.filter((e) => e.outcome === 'failed')).toHaveLength(cases.length);
  });

  it('retire refuses the signing key; retires a waiting one; activate rolls back', async () => {
    const dir = keysDirWith(first);
    const next = fake.createServiceAccount();
    expect((await keysCli(['rotate', '--from', downloadedKeyFile(next)], envFor(dir))).code).toBe(0);

    const refused = await keysCli(['retire', next.key.kid], envFor(dir));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toEqual([expect.stringMatching(/is the signing key and cannot be retired; activate another key first/)]);
    expect(existsSync(path.join(dir, `${next.key.kid}.json`))).toBe(true);

    const rollback = await keysCli(['activate', first.key.kid], envFor(dir));
    expect(rollback.code).toBe(0);
    expect(inspectKeyring(dir, fake.projectId).active?.kid).toBe(first.key.kid);

    const retired = await keysCli(['retire', next.key.kid], envFor(dir));
    expect(retired.code).toBe(0);
    expect(existsSync(path.join(dir, `${next.key.kid}.json`))).toBe(false);
    const ring = inspectKeyring(dir, fake.projectId);
    expect(ring.entries.map((e) => e.kid)).toEqual([first.key.kid]);
    expect(ring.active?.kid).toBe(first.key.kid);

    const unknown = await keysCli(['activate', 'no-such-kid'], envFor(dir));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr[0]).toMatch(/no installed key has kid no-such-kid/);

    const audit = auditEntries(path.join(dir, 'audit.log')).map((e) => [e.command, e.kid, e.outcome]);
    expect(audit).toEqual([
      ['rotate --from', next.key.kid, 'ok'],
      ['retire', next.key.kid, 'failed'],
      ['activate', first.key.kid, 'ok'],
      ['retire', next.key.kid, 'ok'],
      ['activate', 'no-such-kid', 'failed'],
    ]);
  });

  it('activate turns several keys without a manifest into a keyring', async () => {
    const other = fake.createServiceAccount();
    const dir = keysDirWith(first, other);
    expect(inspectKeyring(dir, fake.projectId).active).toBeUndefined();
    expect((await keysCli(['activate', other.key.kid], envFor(dir))).code).toBe(0);
    expect(inspectKeyring(dir, fake.projectId).active?.kid).toBe(other.key.kid);
  });

  it('a first install into an empty (or missing) KEYS_DIR works', async () => {
    const dir = path.join(mkdtempDir(), 'keys');
    const run = await keysCli(['rotate', '--from', downloadedKeyFile(first)], envFor(dir));
    expect(run.code).toBe(0);
    expect(inspectKeyring(dir, fake.projectId).active?.kid).toBe(first.key.kid);
  });

  it('KEYS_AUDIT_LOG moves the audit log', async () => {
    const dir = keysDirWith(first);
    const log = path.join(mkdtempDir(), 'audit', 'keys.log');
    expect((await keysCli(['list'], envFor(dir, { KEYS_AUDIT_LOG: log }))).code).toBe(0);
    expect(auditEntries(log)[0]).toMatchObject({ command: 'list', outcome: 'ok' });
    expect(existsSync(path.join(dir, 'audit.log'))).toBe(false);
  });

  it('refuses to act on a broken keyring, and an audit log it cannot write fails the command', async () => {
    const dir = keysDirWith(first);
    writeFileSync(path.join(dir, 'junk.json'), 'nope');
    const run = await keysCli(['list'], envFor(dir));
    expect(run.code).toBe(1);
    expect(run.stderr[0]).toMatch(/not a valid keyring right now .*junk.json/);

    const ok = keysDirWith(first);
    mkdirSync(path.join(ok, 'audit.log')); // a directory where the log should be
    chmodSync(ok, 0o700);
    const noAudit = await keysCli(['list'], envFor(ok));
    expect(noAudit.code).toBe(1);
    expect(noAudit.stderr.join('\n')).toMatch(/cannot append to the audit log/);
  });

  it('usage errors exit 2', async () => {
    for (const argv of [[], ['bogus'], ['rotate'], ['rotate', '--from'], ['retire'], ['retire', 'a', '--force'], ['activate', 'a', 'b']]) {
      const run = await keysCli(argv, { KEYS_DIR: keysDirWith() });
      expect({ argv, code: run.code }).toEqual({ argv, code: 2 });
    }
    expect(parseKeysArgs(['retire', 'k1', '--delete-remote'])).toEqual({ command: 'retire --delete-remote', kid: 'k1' });
    expect(parseKeysArgs(['rotate', '--create'])).toEqual({ command: 'rotate --create' });
  });
});

function mkdtempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'firebridge-test-'));
}
