import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import Database from 'better-sqlite3';
import type { Envelope } from '../../src/vault/envelope';
import { type VaultRepository, type VaultRow, migrations } from '../../src/vault/repository';
import { SqliteVaultRepository } from '../../src/vault/sqlite';
import { BACKENDS, openRepository } from '../../testkit/vault';

function envelope(keyId = 'vk-a'): Envelope {
  return { keyId, nonce: randomBytes(12), ciphertext: randomBytes(40), tag: randomBytes(16) };
}

function row(uid: string, extra: Partial<VaultRow> = {}): VaultRow {
  return { uid, googleSub: `sub-${uid}`, scopes: ['openid', 'drive'], envelope: envelope(), createdAt: 1000, updatedAt: 1000, ...extra };
}

describe.each(BACKENDS)('vault repository contract: %s', (backend) => {
  let repository: VaultRepository;
  let drop: () => Promise<void>;
  let file: string | undefined;
  let schema: string | undefined;
  beforeEach(async () => {
    ({ repository, drop, file, schema } = await openRepository(backend));
  });
  afterEach(() => drop());

  it('migrations are versioned and run once: migrating again changes nothing', async () => {
    await repository.put(row('u1'));
    await repository.migrate();
    await repository.migrate();
    expect(await repository.get('u1')).toBeDefined();
    const versions =
      backend === 'sqlite'
        ? (new Database(file as string).prepare('SELECT version FROM vault_schema_migrations').all() as Array<{ version: number }>).map((r) => r.version)
        : await (async () => {
            const client = new Client({ connectionString: process.env.DATABASE_URL });
            await client.connect();
            const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${schema}.vault_schema_migrations`);
            await client.end();
            return rows.map((r) => r.version);
          })();
    expect(versions).toEqual(migrations('BLOB').map((m) => m.version));
  });

  it('put, get (bytes round-trip exactly), replace keeps createdAt, delete', async () => {
    const first = row('u1');
    await repository.put(first);
    expect(await repository.get('u1')).toEqual(first);
    const second = row('u1', { scopes: ['openid'], envelope: envelope('vk-b'), createdAt: 5000, updatedAt: 2000, lastUsedAt: 2000 });
    await repository.put(second);
    const got = await repository.get('u1');
    expect(got).toEqual({ ...second, createdAt: 1000 });
    expect(await repository.delete('u1')).toBe(true);
    expect(await repository.delete('u1')).toBe(false);
    expect(await repository.get('u1')).toBeUndefined();
  });

  it('touch sets lastUsedAt only', async () => {
    await repository.put(row('u1'));
    await repository.touch('u1', 9999);
    expect((await repository.get('u1'))?.lastUsedAt).toBe(9999);
    expect((await repository.get('u1'))?.updatedAt).toBe(1000);
  });

  it('list pages by uid and never returns the envelope', async () => {
    for (const uid of ['google:3', 'google:1', 'google:2']) await repository.put(row(uid));
    const first = await repository.list(2);
    expect(first.map((r) => r.uid)).toEqual(['google:1', 'google:2']);
    expect(first[0]).not.toHaveProperty('envelope');
    expect((await repository.list(2, 'google:2')).map((r) => r.uid)).toEqual(['google:3']);
  });

  it('rowsNotUnder, keyIdsInUse and the compare-and-set replaceEnvelope', async () => {
    await repository.put(row('a', { envelope: envelope('vk-old') }));
    await repository.put(row('b', { envelope: envelope('vk-new') }));
    await repository.put(row('c', { envelope: envelope('vk-old') }));
    expect((await repository.keyIdsInUse()).sort()).toEqual(['vk-new', 'vk-old']);
    expect((await repository.rowsNotUnder('vk-new', 10)).map((r) => r.uid)).toEqual(['a', 'c']);
    expect((await repository.rowsNotUnder('vk-new', 10, 'a')).map((r) => r.uid)).toEqual(['c']);
    const a = (await repository.get('a')) as VaultRow;
    const next = envelope('vk-new');
    expect(await repository.replaceEnvelope('a', envelope('vk-old'), next)).toBe(false); // not what the row holds
    expect(await repository.replaceEnvelope('a', a.envelope, next)).toBe(true);
    expect((await repository.get('a'))?.envelope).toEqual(next);
    expect(await repository.replaceEnvelope('a', a.envelope, envelope('vk-new'))).toBe(false); // changed since read
  });

  it('key checks are recorded once (the first value stays)', async () => {
    await repository.recordKeyCheck('vk-a', 'check-1');
    await repository.recordKeyCheck('vk-a', 'check-2');
    expect(await repository.keyChecks()).toEqual(new Map([['vk-a', 'check-1']]));
  });
});

describe('SQLite storage', () => {
  it('runs in WAL mode, in a 0600 file', async () => {
    const { repository, file, drop } = await openRepository('sqlite');
    await repository.put(row('u1'));
    const db = new Database(file as string, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const { statSync } = await import('node:fs');
    expect(statSync(file as string).mode & 0o777).toBe(0o600);
    await drop();
  });

  it('inDataDir creates DATA_DIR/firebridge.db', async () => {
    const { mkdtempSync, existsSync } = await import('node:fs');
    const path = await import('node:path');
    const dir = path.join(mkdtempSync(path.join((await import('node:os')).tmpdir(), 'fb-data-')), 'nested');
    const repo = SqliteVaultRepository.inDataDir(dir);
    await repo.migrate();
    await repo.close();
    expect(existsSync(path.join(dir, 'firebridge.db'))).toBe(true);
  });
});
