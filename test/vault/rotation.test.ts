import { readFileSync, statSync } from 'node:fs';
import { KeyAdminError } from '../../src/errors';
import { writeFileAtomic } from '../../src/keys/atomic-write';
import { parseDataKeyFile } from '../../src/vault/data-keys';
import type { VaultRepository, VaultRow } from '../../src/vault/repository';
import { type RotationDeps, type VaultKeyStep, createDataKeyFile, rotateDataKeys } from '../../src/vault/rotation';
import { FakeOAuth } from '../../testkit/fake-oauth';
import { manualClock } from '../../testkit/harness';
import { BACKENDS, openRepository, vaultKeyFile, vaultOn } from '../../testkit/vault';

const keyFileOf = (file: string) => parseDataKeyFile(readFileSync(file, 'utf8'), file);

describe('vault-key create', () => {
  it('writes one active 32-byte key, 0600, and never replaces a file', () => {
    const file = vaultKeyFile();
    const parsed = keyFileOf(file);
    expect(parsed.keys).toHaveLength(1);
    expect(parsed.active).toBe(parsed.keys[0]?.id);
    expect(Buffer.from(parsed.keys[0]?.key as string, 'base64')).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(() => createDataKeyFile({ keysFile: file, clock: Date.now, write: writeFileAtomic, exists: () => true, audit: () => undefined })).toThrow(
      KeyAdminError,
    );
  });
});

describe.each(BACKENDS)('vault-key rotate on %s', (backend) => {
  let oauth: FakeOAuth;
  let repository: VaultRepository;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    oauth = await FakeOAuth.start();
  });
  afterAll(() => oauth.close());
  beforeEach(async () => {
    ({ repository, drop } = await openRepository(backend));
  });
  afterEach(() => drop());

  function rotationDeps(keysFile: string, steps: VaultKeyStep[], extra: Partial<RotationDeps> = {}): RotationDeps {
    return {
      keysFile,
      clock: Date.now,
      write: writeFileAtomic,
      exists: () => true,
      audit: (step) => {
        steps.push(step);
      },
      repository,
      batchSize: 7,
      reloadGraceMs: 1200,
      ...extra,
    };
  }

  it('re-encrypts every row under a new key while requests and new links run (none fails), then retires the old key', async () => {
    const keysFile = vaultKeyFile();
    const oldKey = keyFileOf(keysFile).active;
    const cacheClock = manualClock();
    // The server: its cache on a clock the test moves (every request refreshes, so decrypts), its key file reload on the real one.
    const { vault } = vaultOn(repository, oauth, keysFile, cacheClock, Date.now);
    await vault.start(keysFile);
    const uids = Array.from({ length: 40 }, (_, i) => `google:${1000 + i}`);
    for (const uid of uids) await vault.link(uid, uid.slice(7), oauth.issueCode({ sub: uid.slice(7) }), '');
    const steps: VaultKeyStep[] = [];
    let done = false;
    const failures: unknown[] = [];
    let served = 0;
    let linked = 0;
    const traffic = (async () => {
      let i = 0;
      while (!done) {
        cacheClock.advance(3600_000);
        const uid = uids[i % uids.length] as string;
        i += 1;
        await vault.accessTokenFor(uid).then(() => (served += 1), (err: unknown) => failures.push(err));
        if (i % 5 === 0) {
          const sub = `${2000 + i}`;
          const outcome = await vault.link(`google:${sub}`, sub, oauth.issueCode({ sub }), '');
          if (outcome.linked) linked += 1;
          else failures.push(outcome);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const result = await rotateDataKeys(rotationDeps(keysFile, steps));
    done = true;
    await traffic;
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(20);
    expect(linked).toBeGreaterThan(0);
    const after = keyFileOf(keysFile);
    expect(after.keys.map((k) => k.id)).toEqual([result.kid]);
    expect(result.kid).not.toBe(oldKey);
    expect(result.retired).toEqual([oldKey]);
    expect(result.reencrypted).toBeGreaterThanOrEqual(40);
    expect(await repository.keyIdsInUse()).toEqual([result.kid]);
    expect(steps.map((s) => s.detail)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^new active data key/), expect.stringMatching(/^re-encrypted 7 rows/), `retired ${oldKey}`]),
    );
    // Every row still opens (a fresh server on the new file).
    const fresh = vaultOn(repository, oauth, keysFile, cacheClock);
    await fresh.vault.start(keysFile);
    for (const uid of uids) await expect(fresh.vault.accessTokenFor(uid)).resolves.toHaveProperty('accessToken');
  });

  it('is resumable: a rotation stopped half-way continues with the same new key', async () => {
    const keysFile = vaultKeyFile();
    const oldKey = keyFileOf(keysFile).active;
    const { vault } = vaultOn(repository, oauth, keysFile);
    await vault.start(keysFile);
    for (let i = 0; i < 20; i += 1) await vault.link(`google:${i}`, `${i}`, oauth.issueCode({ sub: `${i}` }), '');
    let calls = 0;
    const crashing: VaultRepository = Object.create(repository, {
      replaceEnvelope: {
        value: async (...args: Parameters<VaultRepository['replaceEnvelope']>) => {
          calls += 1;
          if (calls > 9) throw new Error('killed');
          return repository.replaceEnvelope(...args);
        },
      },
    });
    const steps: VaultKeyStep[] = [];
    await expect(rotateDataKeys(rotationDeps(keysFile, steps, { repository: crashing, reloadGraceMs: 0 }))).rejects.toThrow('killed');
    const half = keyFileOf(keysFile);
    expect(half.keys.map((k) => k.id)).toEqual([oldKey, half.active]);
    const result = await rotateDataKeys(rotationDeps(keysFile, steps, { reloadGraceMs: 0 }));
    expect(result.kid).toBe(half.active);
    expect(result.reencrypted).toBe(11);
    expect(steps.map((s) => s.detail)).toContain(`resuming the rotation to ${half.active}`);
    expect(keyFileOf(keysFile).keys.map((k) => k.id)).toEqual([half.active]);
  });

  it('a row that does not decrypt keeps the old key (named in the refusal), never silently dropped', async () => {
    const keysFile = vaultKeyFile();
    const { vault } = vaultOn(repository, oauth, keysFile);
    await vault.start(keysFile);
    await vault.link('google:1', '1', oauth.issueCode({ sub: '1' }), '');
    const row = (await repository.get('google:1')) as VaultRow;
    await repository.put({ ...row, uid: 'google:moved' });
    await expect(rotateDataKeys(rotationDeps(keysFile, [], { reloadGraceMs: 0 }))).rejects.toThrow(/1 vault rows do not decrypt \(google:moved\)/);
    expect(keyFileOf(keysFile).keys).toHaveLength(2);
  });
});
