import { Pool } from 'pg';
import type { Envelope } from './envelope';
import { type DbRow, type VaultListing, type VaultRepository, type VaultRow, migrations, rowFromDb } from './repository';

/** Any 64-bit key: migrations of concurrent starts are serialized by this advisory lock. */
const MIGRATION_LOCK = 0x66627661756c74; // "fbvault"

/** The vault in PostgreSQL (DATABASE_URL), pooled. `schema` (tests) puts the tables in their own schema. */
export class PostgresVaultRepository implements VaultRepository {
  private readonly pool: Pool;

  constructor(connectionString: string, private readonly schema?: string, maxConnections = 10) {
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error('schema must be a plain lowercase identifier');
    this.pool = new Pool({
      connectionString,
      max: maxConnections,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      statement_timeout: 10_000,
      ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
    });
    // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      if (this.schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await client.query(
          'CREATE TABLE IF NOT EXISTS vault_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
        );
        const { rows } = await client.query<{ version: number }>('SELECT version FROM vault_schema_migrations');
        const applied = new Set(rows.map((r) => r.version));
        for (const m of migrations('BYTEA')) {
          if (applied.has(m.version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(m.sql);
            await client.query('INSERT INTO vault_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK');
            throw err;
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      }
    } finally {
      client.release();
    }
  }

  async get(uid: string): Promise<VaultRow | undefined> {
    const { rows } = await this.pool.query<DbRow>('SELECT * FROM google_vault WHERE uid = $1', [uid]);
    return rows[0] ? rowFromDb(rows[0]) : undefined;
  }

  async put(row: VaultRow): Promise<void> {
    const e = row.envelope;
    await this.pool.query(
      `INSERT INTO google_vault (uid, google_sub, scopes, key_id, nonce, ciphertext, tag, created_at, updated_at, last_used_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (uid) DO UPDATE SET google_sub = excluded.google_sub, scopes = excluded.scopes, key_id = excluded.key_id,
         nonce = excluded.nonce, ciphertext = excluded.ciphertext, tag = excluded.tag, updated_at = excluded.updated_at,
         last_used_at = excluded.last_used_at`,
      [row.uid, row.googleSub, JSON.stringify(row.scopes), e.keyId, e.nonce, e.ciphertext, e.tag, row.createdAt, row.updatedAt, row.lastUsedAt ?? null],
    );
  }

  async delete(uid: string, expected?: Envelope): Promise<boolean> {
    const result =
      expected === undefined
        ? await this.pool.query('DELETE FROM google_vault WHERE uid = $1', [uid])
        : await this.pool.query('DELETE FROM google_vault WHERE uid = $1 AND key_id = $2 AND nonce = $3 AND ciphertext = $4 AND tag = $5', [
            uid,
            expected.keyId,
            expected.nonce,
            expected.ciphertext,
            expected.tag,
          ]);
    return (result.rowCount ?? 0) > 0;
  }

  async touch(uid: string, lastUsedAt: number): Promise<void> {
    await this.pool.query('UPDATE google_vault SET last_used_at = $1 WHERE uid = $2', [lastUsedAt, uid]);
  }

  async list(limit: number, afterUid = ''): Promise<VaultListing[]> {
    const { rows } = await this.pool.query<DbRow>('SELECT * FROM google_vault WHERE uid COLLATE "C" > $1 ORDER BY uid COLLATE "C" LIMIT $2', [afterUid, limit]);
    return rows.map(rowFromDb).map(({ envelope: _e, ...rest }) => rest);
  }

  async rowsNotUnder(keyId: string, limit: number, afterUid = ''): Promise<VaultRow[]> {
    const { rows } = await this.pool.query<DbRow>(
      'SELECT * FROM google_vault WHERE key_id <> $1 AND uid COLLATE "C" > $2 ORDER BY uid COLLATE "C" LIMIT $3',
      [keyId, afterUid, limit],
    );
    return rows.map(rowFromDb);
  }

  async replaceEnvelope(uid: string, expected: Envelope, next: Envelope): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE google_vault SET key_id = $1, nonce = $2, ciphertext = $3, tag = $4
       WHERE uid = $5 AND key_id = $6 AND nonce = $7 AND ciphertext = $8 AND tag = $9`,
      [next.keyId, next.nonce, next.ciphertext, next.tag, uid, expected.keyId, expected.nonce, expected.ciphertext, expected.tag],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async keyIdsInUse(): Promise<string[]> {
    const { rows } = await this.pool.query<{ key_id: string }>('SELECT DISTINCT key_id FROM google_vault');
    return rows.map((r) => r.key_id);
  }

  async keyChecks(): Promise<Map<string, string>> {
    const { rows } = await this.pool.query<{ key_id: string; key_check: string }>('SELECT key_id, key_check FROM google_vault_keys');
    return new Map(rows.map((r) => [r.key_id, r.key_check]));
  }

  async recordKeyCheck(keyId: string, check: string): Promise<void> {
    await this.pool.query('INSERT INTO google_vault_keys (key_id, key_check) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING', [keyId, check]);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
