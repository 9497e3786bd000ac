import { mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KeyFileSigner } from '../../src/keys/key-file-signer';
import { loadKeyring } from '../../src/keys/keyring';
import { KeyringWatcher } from '../../src/keys/keyring-watcher';
import { createLogger } from '../../src/logger';
import { FakeGoogle, type TestServiceAccount } from '../../testkit/fake-google';
import { LogCapture, keysDirWith } from '../../testkit/harness';
import { downloadedKeyFile, keysCli } from '../../testkit/keys-cli';

async function eventually(check: () => boolean, timeoutMs = 4000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('keyring watcher: hot reload of KEYS_DIR', () => {
  let fake: FakeGoogle;
  let first: TestServiceAccount;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    first = fake.createServiceAccount();
  });
  afterAll(() => fake.close());

  function watch(dir: string, pollIntervalMs = 0) {
    const logs = new LogCapture();
    const logger = createLogger('info', logs);
    const initial = loadKeyring(dir, fake.projectId);
    const signer = new KeyFileSigner(initial.active.key);
    const watcher = new KeyringWatcher({ dir, projectId: fake.projectId, signer, logger, initial, pollIntervalMs, debounceMs: 20 });
    return { watcher, signer, logs, kid: () => signer.currentKey()?.privateKeyId };
  }

  it('a rotation is swapped in; the log names kids, never keys', async () => {
    const dir = keysDirWith(first);
    const { watcher, kid, logs } = watch(dir);
    const next = fake.createServiceAccount();
    expect((await keysCli(['rotate', '--from', downloadedKeyFile(next)], { KEYS_DIR: dir })).code).toBe(0);
    expect(await watcher.reload('test')).toBe('reloaded');
    expect(kid()).toBe(next.key.kid);
    expect(await watcher.reload('test')).toBe('unchanged');
    const entry = logs.entries().find((e) => e.msg === 'keyring reloaded: new signing key');
    expect(entry).toMatchObject({ activeKid: next.key.kid, previousActiveKid: first.key.kid, added: [next.key.kid] });
    expect(logs.text).not.toContain('PRIVATE KEY');
  });

  it.each([
    ['junk', (dir: string) => writeFileSync(path.join(dir, 'junk.json'), '{"type":')],
    ['wrong project', (dir: string) => writeFileSync(path.join(dir, 'other.json'), JSON.stringify(fake.createServiceAccount('other-project-1').json))],
    ['truncated PEM', (dir: string) => writeFileSync(path.join(dir, 't.json'), JSON.stringify({ ...first.json, private_key_id: 't1', private_key: first.json.private_key!.slice(0, 400) }))],
    ['unreadable file', (dir: string) => symlinkSync(path.join(dir, 'gone'), path.join(dir, 'dangling.json'))],
    ['manifest naming a missing key', (dir: string) => writeFileSync(path.join(dir, 'keyring.json'), JSON.stringify({ version: 1, active: 'zz', keys: { zz: { file: 'zz.json', addedAt: '2026-01-01T00:00:00Z' } } }))],
  ])('a bad change (%s) is rejected and logged once; the last good key keeps signing', async (_name, breakIt) => {
    const dir = keysDirWith(first);
    const { watcher, kid, logs, signer } = watch(dir);
    const before = signer.currentKey();
    breakIt(dir);
    expect(await watcher.reload('test')).toBe('rejected');
    expect(await watcher.reload('poll')).toBe('unchanged'); // already examined: not logged again
    expect(signer.currentKey()).toBe(before);
    expect(kid()).toBe(first.key.kid);
    expect(watcher.keyring().active.kid).toBe(first.key.kid);
    const rejections = logs.entries().filter((e) => e.msg === 'key directory change rejected; still signing with the last good keyring');
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatchObject({ level: 50, activeKid: first.key.kid });
    expect(logs.text).not.toContain('PRIVATE KEY');
    // firebridge_keyring_reloads_total: the bad change once, the unchanged poll not at all.
    expect(watcher.reloads).toEqual({ reloaded: 0, rejected: 1 });
  });

  it('fs.watch picks a rotation up without any poll', async () => {
    const dir = keysDirWith(first);
    const { watcher, kid } = watch(dir, 0);
    watcher.start();
    try {
      const next = fake.createServiceAccount();
      expect((await keysCli(['rotate', '--from', downloadedKeyFile(next)], { KEYS_DIR: dir })).code).toBe(0);
      await eventually(() => kid() === next.key.kid);
    } finally {
      watcher.stop();
    }
  });

  it('a Kubernetes-style symlink swap of ..data is picked up by the poll', async () => {
    // KEYS_DIR/sa.json -> ..data/sa.json, ..data -> ..v1; an update writes ..v2 and renames a new ..data link over the old.
    const dir = keysDirWith();
    const version = (name: string, account: TestServiceAccount) => {
      mkdirSync(path.join(dir, name));
      writeFileSync(path.join(dir, name, 'sa.json'), JSON.stringify(account.json), { mode: 0o600 });
    };
    version('..v1', first);
    symlinkSync('..v1', path.join(dir, '..data'));
    symlinkSync('..data/sa.json', path.join(dir, 'sa.json'));
    const { watcher, kid } = watch(dir, 50);
    watcher.start();
    try {
      const next = fake.createServiceAccount();
      version('..v2', next);
      symlinkSync('..v2', path.join(dir, '..data_tmp'));
      renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
      rmSync(path.join(dir, '..v1'), { recursive: true });
      await eventually(() => kid() === next.key.kid);
    } finally {
      watcher.stop();
    }
  });

  it('a key copied next to a single key (no manifest) waits; the current key keeps signing', async () => {
    const dir = keysDirWith(first);
    const { watcher, kid } = watch(dir);
    const next = fake.createServiceAccount();
    writeFileSync(path.join(dir, `${next.key.kid}.json`), JSON.stringify(next.json), { mode: 0o600 });
    expect(await watcher.reload('test')).toBe('reloaded');
    expect(kid()).toBe(first.key.kid);
    expect(watcher.keyring().entries.map((e) => e.kid).sort()).toEqual([first.key.kid, next.key.kid].sort());
  });

  it('SIGHUP-style forced reload re-reads even an unchanged directory; removing the signing key is rejected', async () => {
    const dir = keysDirWith(first);
    const { watcher, kid, logs } = watch(dir);
    expect(await watcher.reload('SIGHUP', true)).toBe('reloaded');
    expect(watcher.reloads.reloaded).toBe(1);
    unlinkSync(path.join(dir, `${first.key.kid}.json`));
    expect(await watcher.reload('SIGHUP', true)).toBe('rejected');
    expect(kid()).toBe(first.key.kid);
    expect(logs.text).toMatch(/holds no service-account key file/);
  });
});
