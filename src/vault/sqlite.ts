import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Envelope } from './envelope';
import { type DbRow, type VaultListing, type VaultRepository, type VaultRow, migrations, rowFromDb } from './repository';

/** The vault in SQLite (`DATA_DIR/firebridge.db`, WAL mode, created 0600 in a 0700 folder). */
export class SqliteVaultRepository implements VaultRepository {
  private readonly db: Database.Database;

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // 0600 before SQLite opens it: its -wal and -shm files take the database file's mode.
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
  }

  static inDataDir(dataDir: string): SqliteVaultRepository {
    return new SqliteVaultRepository(path.join(dataDir, 'firebridge.db'));
  }

  async migrate(): Promise<void> {
    this.db.exec('CREATE TABLE IF NOT EXISTS vault_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const applied = new Set(
      (this.db.prepare('SELECT version FROM vault_schema_migrations').all() as Array<{ version: number }>).map((r) => r.version),
    );
    for (const m of migrations('BLOB')) {
      if (applied.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO vault_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      }).immediate();
    }
  }

  async get(uid: string): Promise<VaultRow | undefined> {
    const r = this.db.prepare('SELECT * FROM google_vault WHERE uid = ?').get(uid) as DbRow | undefined;
    return r ? rowFromDb(r) : undefined;
  }

  async put(row: VaultRow): Promise<void> {
    const e = row.envelope;
    this.db
      .prepare(
        `INSERT INTO google_vault (uid, google_sub, scopes, key_id, nonce, ciphertext, tag, created_at, updated_at, last_used_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (uid) DO UPDATE SET google_sub = excluded.google_sub, scopes = excluded.scopes, key_id = excluded.key_id,
           nonce = excluded.nonce, ciphertext = excluded.ciphertext, tag = excluded.tag, updated_at = excluded.updated_at,
           last_used_at = excluded.last_used_at`,
      )
      .run(row.uid, row.googleSub, JSON.stringify(row.scopes), e.keyId, e.nonce, e.ciphertext, e.tag, row.createdAt, row.updatedAt, row.lastUsedAt ?? null);
  }

  async delete(uid: string, expected?: Envelope): Promise<boolean> {
    if (expected === undefined) return this.db.prepare('DELETE FROM google_vault WHERE uid = ?').run(uid).changes > 0;
    return (
      this.db
        .prepare('DELETE FROM google_vault WHERE uid = ? AND key_id = ? AND nonce = ? AND ciphertext = ? AND tag = ?')
        .run(uid, expected.keyId, expected.nonce, expected.ciphertext, expected.tag).changes > 0
    );
  }

  async touch(uid: string, lastUsedAt: number): Promise<void> {
    this.db.prepare('UPDATE google_vault SET last_used_at = ? WHERE uid = ?').run(lastUsedAt, uid);
  }

  async list(limit: number, afterUid = ''): Promise<VaultListing[]> {
    const rows = this.db.prepare('SELECT * FROM google_vault WHERE uid > ? ORDER BY uid LIMIT ?').all(afterUid, limit) as DbRow[];
    return rows.map(rowFromDb).map(({ envelope: _e, ...rest }) => rest);
  }

  async rowsNotUnder(keyId: string, limit: number, afterUid = ''): Promise<VaultRow[]> {
    const rows = this.db.prepare('SELECT * FROM google_vault WHERE key_id <> ? AND uid > ? ORDER BY uid LIMIT ?').all(keyId, afterUid, limit) as DbRow[];
    return rows.map(rowFromDb);
  }

  async replaceEnvelope(uid: string, expected: Envelope, next: Envelope): Promise<boolean> {
    const result = this.db
      .prepare(
        'UPDATE google_vault SET key_id = ?, nonce = ?, ciphertext = ?, tag = ? WHERE uid = ? AND key_id = ? AND nonce = ? AND ciphertext = ? AND tag = ?',
      )
      .run(next.keyId, next.nonce, next.ciphertext, next.tag, uid, expected.keyId, expected.nonce, expected.ciphertext, expected.tag);
    return result.changes > 0;
  }

  async keyIdsInUse(): Promise<string[]> {
    return (this.db.prepare('SELECT DISTINCT key_id FROM google_vault').all() as Array<{ key_id: string }>).map((r) => r.key_id);
  }

  async keyChecks(): Promise<Map<string, string>> {
    const rows = this.db.prepare('SELECT key_id, key_check FROM google_vault_keys').all() as Array<{ key_id: string; key_check: string }>;
    return new Map(rows.map((r) => [r.key_id, r.key_check]));
  }

  async recordKeyCheck(keyId: string, check: string): Promise<void> {
    this.db.prepare('INSERT INTO google_vault_keys (key_id, key_check) VALUES (?, ?) ON CONFLICT (key_id) DO NOTHING').run(keyId, check);
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
