import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AuditEvent } from '../../src/audit/audit-trail';
import { KeyFileSigner } from '../../src/keys/key-file-signer';
import { loadKeyring } from '../../src/keys/keyring';
import { KeyringWatcher } from '../../src/keys/keyring-watcher';
import { createLogger } from '../../src/logger';
import { FakeGoogle } from '../../testkit/fake-google';
import { LogCapture, keysDirWith } from '../../testkit/harness';
import { downloadedKeyFile, keysCli } from '../../testkit/keys-cli';

describe('key events reach the audit trail', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('a rotation seen by the server is key.rotate (new kid, previous kid, added); a rejected change is key.reload_failed, once per distinct failure; no key material', async () => {
    const first = fake.createServiceAccount();
    const dir = keysDirWith(first);
    const initial = loadKeyring(dir, fake.projectId);
    const events: AuditEvent[] = [];
    const watcher = new KeyringWatcher({
      dir,
      projectId: fake.projectId,
      signer: new KeyFileSigner(initial.active.key),
      logger: createLogger('silent', new LogCapture()),
      initial,
      pollIntervalMs: 0,
      audit: { record: (event) => events.push(event) },
    });
    const next = fake.createServiceAccount();
    expect((await keysCli(['rotate', '--from', downloadedKeyFile(next)], { KEYS_DIR: dir })).code).toBe(0);
    expect(await watcher.reload('test')).toBe('reloaded');
    writeFileSync(path.join(dir, 'junk.json'), '{"type":');
    expect(await watcher.reload('test')).toBe('rejected');
    // The same failure again (SIGHUP forces a re-read): logged, but audited once.
    expect(await watcher.reload('SIGHUP', true)).toBe('rejected');
    expect(events).toEqual([
      expect.objectContaining({ event: 'key.rotate', trigger: 'test', kid: next.key.kid, previousKid: first.key.kid, added: [next.key.kid], retired: [] }),
      expect.objectContaining({ event: 'key.reload_failed', trigger: 'test', reason: 'ERR_KEY_FILE', activeKid: next.key.kid }),
    ]);
    expect(JSON.stringify(events)).not.toMatch(/PRIVATE KEY/);
  });
});
