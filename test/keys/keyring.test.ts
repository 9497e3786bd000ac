import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KeyFileError } from '../../src/errors';
import { inspectKeyring, loadKeyring } from '../../src/keys/keyring';
import { MANIFEST_FILE } from '../../src/keys/manifest';
import { FakeGoogle, type TestServiceAccount } from '../../testkit/fake-google';
import { keysDirWith } from '../../testkit/harness';

describe('keyring: KEYS_DIR read and validated completely', () => {
  let fake: FakeGoogle;
  let a: TestServiceAccount;
  let b: TestServiceAccount;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    a = fake.createServiceAccount();
    b = fake.createServiceAccount(); // a second key of the same account name (another kid)
  });
  afterAll(() => fake.close());

  const manifest = (active: string, ...accounts: TestServiceAccount[]) =>
    JSON.stringify({
      version: 1,
      active,
      keys: Object.fromEntries(accounts.map((acc) => [acc.key.kid, { file: `${acc.key.kid}.json`, addedAt: '2026-01-01T00:00:00.000Z' }])),
    });

  it('a single key file and no manifest: that key signs (the first-install setup)', () => {
    const dir = keysDirWith(a);
    const ring = loadKeyring(dir, fake.projectId);
    expect(ring.active.kid).toBe(a.key.kid);
    expect(ring.entries.map((e) => e.kid)).toEqual([a.key.kid]);
    expect(ring.manifest).toBeUndefined();
  });

  it('the manifest names the signing key among several', () => {
    const dir = keysDirWith(a, b);
    writeFileSync(path.join(dir, MANIFEST_FILE), manifest(b.key.kid, a, b));
    const ring = loadKeyring(dir, fake.projectId);
    expect(ring.active.kid).toBe(b.key.kid);
    expect(ring.entries).toHaveLength(2);
    expect(ring.entries.find((e) => e.kid === a.key.kid)?.addedAt).toBe('2026-01-01T00:00:00.000Z');
  });

  it('several keys without a manifest: refused at start, with how to fix it', () => {
    const dir = keysDirWith(a, b);
    expect(() => loadKeyring(dir, fake.projectId)).toThrow(/holds 2 key files and no keyring.json .*activate/);
    expect(inspectKeyring(dir, fake.projectId).active).toBeUndefined();
  });

  it('an empty directory keeps the familiar message', () => {
    const dir = keysDirWith();
    expect(() => loadKeyring(dir, fake.projectId)).toThrow(/holds no service-account key file/);
  });

  it.each([
    ['junk', () => 'not json at all', /is not valid JSON/],
    ['wrong project', () => JSON.stringify(fake.createServiceAccount('other-project-1').json), /FIREBASE_PROJECT_ID/],
    ['truncated PEM', () => JSON.stringify({ ...a.json, private_key_id: 'trunc1', private_key: a.json.private_key!.slice(0, 300) }), /does not import/],
  ])('one bad file (%s) fails the whole load, naming the file, never the key', (_name, content, message) => {
    const dir = keysDirWith(a);
    writeFileSync(path.join(dir, 'bad.json'), content());
    let error: unknown;
    try {
      loadKeyring(dir, fake.projectId);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KeyFileError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('bad.json');
    expect((error as Error).message).not.toContain('PRIVATE KEY');
  });

  it('an unreadable key file fails the load', () => {
    const dir = keysDirWith(a);
    // A dangling symlink cannot be read even by root (chmod 000 can).
    symlinkSync(path.join(dir, 'missing-target'), path.join(dir, 'unreadable.json'));
    expect(() => loadKeyring(dir, fake.projectId)).toThrow(/unreadable.json: cannot be read \(ENOENT\)/);
  });

  it('a manifest naming a missing file, or the wrong key, is refused', () => {
    const dir = keysDirWith(a);
    writeFileSync(path.join(dir, MANIFEST_FILE), manifest(a.key.kid, a, b));
    expect(() => loadKeyring(dir, fake.projectId)).toThrow(/which is missing/);
    writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify({ version: 1, active: 'nope', keys: {} }));
    expect(() => loadKeyring(dir, fake.projectId)).toThrow(/not among its keys/);
  });

  it('follows a Kubernetes secret mount (files are symlinks into ..data)', () => {
    const dir = keysDirWith();
    mkdirSync(path.join(dir, '..2026_01_01'));
    writeFileSync(path.join(dir, '..2026_01_01', 'sa.json'), JSON.stringify(a.json));
    symlinkSync('..2026_01_01', path.join(dir, '..data'));
    symlinkSync('..data/sa.json', path.join(dir, 'sa.json'));
    expect(loadKeyring(dir, fake.projectId).active.kid).toBe(a.key.kid);
    expect(readFileSync(path.join(dir, 'sa.json'), 'utf8')).toContain(a.key.kid);
  });
});
