import { readdirSync } from 'node:fs';
import { parseManifest } from '../../src/keys/manifest';
import { inspectKeyring } from '../../src/keys/keyring';
import { KeyFileError } from '../../src/errors';
import { FakeGoogle } from '../../testkit/fake-google';
import { keysDirWith } from '../../testkit/harness';
import { downloadedKeyFile, keysCli } from '../../testkit/keys-cli';

describe('key admin edge cases', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  const envFor = (dir: string) => ({ KEYS_DIR: dir, FIREBASE_PROJECT_ID: fake.projectId });

  it('retire is refused when several keys have no manifest (which one a server signs with is unknown)', async () => {
    const a = fake.createServiceAccount();
    const b = fake.createServiceAccount();
    // As in a multi-instance rotation: the new key copied next to the old one, no keyring.json.
    const dir = keysDirWith(a, b);
    const run = await keysCli(['retire', a.key.kid], envFor(dir));
    expect(run.code).toBe(1);
    expect(run.stderr.join('\n')).toMatch(/no manifest.*activate/);
    expect(readdirSync(dir).filter((n) => n.endsWith('.json'))).toHaveLength(2);
    // After activate names the signing key, the other can go.
    expect((await keysCli(['activate', b.key.kid], envFor(dir))).code).toBe(0);
    expect((await keysCli(['retire', a.key.kid], envFor(dir))).code).toBe(0);
  });

  it('a key whose kid is "keyring" never overwrites the manifest', async () => {
    const first = fake.createServiceAccount();
    const odd = fake.createServiceAccount();
    const dir = keysDirWith(first);
    const json = { ...odd.json, private_key_id: 'keyring' };
    const run = await keysCli(['rotate', '--from', downloadedKeyFile(odd, JSON.stringify(json))], envFor(dir));
    expect(run.code).toBe(0);
    const keyring = inspectKeyring(dir, fake.projectId);
    expect(keyring.active?.kid).toBe('keyring');
    expect(keyring.active?.file).not.toBe('keyring.json');
    expect(keyring.entries.map((e) => e.kid).sort()).toEqual([first.key.kid, 'keyring'].sort());
  });

  it('manifest kids named like Object.prototype members are plain keys', () => {
    const manifest = (active: string, keys: Record<string, unknown>) => JSON.stringify({ version: 1, active, keys });
    expect(() => parseManifest(manifest('constructor', {}), 'keyring.json')).toThrow(KeyFileError);
    expect(() => parseManifest(manifest('toString', { a: { file: 'a.json', addedAt: '2026-11-22T00:00:00Z' } }), 'keyring.json')).toThrow(
      /not among its keys/,
    );
    const parsed = parseManifest(
      '{"version":1,"active":"__proto__","keys":{"__proto__":{"file":"p.json","addedAt":"2026-11-22T00:00:00Z"}}}',
      'keyring.json',
    );
    expect(Object.keys(parsed.keys)).toEqual(['__proto__']);
    expect(parsed.keys.__proto__?.file).toBe('p.json');
  });
});
