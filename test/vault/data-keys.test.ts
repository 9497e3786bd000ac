import { readFileSync, writeFileSync } from 'node:fs';
import { VaultKeyError } from '../../src/errors';
import { writeFileAtomic } from '../../src/keys/atomic-write';
import { type DataKeyFile, ReloadingDataKeys, newDataKeyEntry, parseDataKeyFile, readDataKeyFile, serializeDataKeyFile } from '../../src/vault/data-keys';
import { open, seal } from '../../src/vault/envelope';
import { manualClock } from '../../testkit/harness';
import { vaultKeyFile } from '../../testkit/vault';

describe('envelope encryption', () => {
  const file = parseDataKeyFile(readFileSync(vaultKeyFile(), 'utf8'), 'test');
  const key = { id: file.active, key: Buffer.from(file.keys[0]?.key as string, 'base64') };

  it('round-trips, with a fresh nonce each time; the ciphertext is not the plaintext', () => {
    const a = seal(key, 'google:1', '1//0g-refresh');
    const b = seal(key, 'google:1', '1//0g-refresh');
    expect(a.nonce.equals(b.nonce)).toBe(false);
    expect(a.ciphertext.toString('latin1')).not.toContain('refresh');
    expect(open(key, 'google:1', a)).toBe('1//0g-refresh');
  });

  it('another uid, a flipped byte, or another key does not open', () => {
    const sealed = seal(key, 'google:1', 'secret');
    expect(() => open(key, 'google:2', sealed)).toThrow(/does not decrypt/);
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(() => open(key, 'google:1', { ...sealed, ciphertext: flipped })).toThrow(/does not decrypt/);
    expect(() => open({ id: key.id, key: Buffer.alloc(32, 1) }, 'google:1', sealed)).toThrow(/does not decrypt/);
  });
});

describe('VAULT_KEYS_FILE', () => {
  it('a missing file names the command that creates it; a bad one is refused without quoting keys', () => {
    expect(() => readDataKeyFile('/nonexistent/vault-keys.json')).toThrow(/npm run keys -- vault-key create/);
    expect(() => parseDataKeyFile('{"version":1,"active":"vk-x","keys":[{"id":"vk-x","key":"c2hvcnQ="}]}', 'f')).toThrow(/not 32 bytes/);
    expect(() => parseDataKeyFile('{"version":1,"active":"vk-y","keys":[]}', 'f')).toThrow(VaultKeyError);
    expect(() => parseDataKeyFile('nope', 'f')).toThrow(/not valid JSON/);
  });

  it('hot reload: a changed file is picked up at the next check, a bad one keeps the keys in use, an unknown id re-reads at once', () => {
    const path = vaultKeyFile();
    const clock = manualClock();
    const reloads: Array<string | undefined> = [];
    const keys = new ReloadingDataKeys(path, clock, (_ids, err) => reloads.push(err?.message), 1000);
    const first = keys.active().id;
    const original = readDataKeyFile(path);
    const added = newDataKeyEntry(clock);
    const next: DataKeyFile = { version: 1, active: added.id, keys: [...original.keys, added] };
    writeFileAtomic(path, serializeDataKeyFile(next));
    expect(keys.active().id).toBe(first); // not checked yet
    clock.advance(1000);
    expect(keys.active().id).toBe(added.id);
    expect(keys.byId(first)).toBeDefined(); // both read during a rotation
    writeFileSync(path, 'garbage');
    clock.advance(1000);
    expect(keys.active().id).toBe(added.id);
    expect(reloads.at(-1)).toMatch(/not valid JSON/);
    const third = newDataKeyEntry(clock);
    writeFileAtomic(path, serializeDataKeyFile({ version: 1, active: third.id, keys: [third] }));
    expect(keys.byId(third.id)?.id).toBe(third.id); // unknown id: re-read without waiting
  });
});
