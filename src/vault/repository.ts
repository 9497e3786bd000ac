import type { Envelope } from './envelope';

/** One user's link: the sealed refresh token and what it grants. Times are epoch ms. */
export interface VaultRow {
  uid: string;
  googleSub: string;
  scopes: string[];
  envelope: Envelope;
  createdAt: number;
  updatedAt: number;
  lastUsedAt?: number;
}

/** What `npm run vault -- list` shows: never the envelope. */
export type VaultListing = Omit<VaultRow, 'envelope'>;

/**
 * The vault's storage (SQLite in src/vault/sqlite.ts, PostgreSQL in src/vault/postgres.ts); both run
 * the same contract tests (test/vault/repository.test.ts). Migrations are versioned and run by `migrate`.
 */
export interface VaultRepository {
  /** Applies the schema migrations not yet applied (recorded in vault_schema_migrations). */
  migrate(): Promise<void>;
  get(uid: string): Promise<VaultRow | undefined>;
  /** Inserts or replaces the row of `row.uid` (createdAt of an existing row is kept). */
  put(row: VaultRow): Promise<void>;
  /**
   * True when a row was deleted. With `expected`, only if the row still holds that envelope (a link
   * made meanwhile, with a new refresh token, is not deleted by a decision about the old one).
   */
  delete(uid: string, expected?: Envelope): Promise<boolean>;
  touch(uid: string, lastUsedAt: number): Promise<void>;
  list(limit: number, afterUid?: string): Promise<VaultListing[]>;
  /** Up to `limit` rows whose envelope is under another key than `keyId`, by uid, after `afterUid`. */
  rowsNotUnder(keyId: string, limit: number, afterUid?: string): Promise<VaultRow[]>;
  /** Replaces the envelope only if the row still holds `expected` (a concurrent link wins). True when replaced. */
  replaceEnvelope(uid: string, expected: Envelope, next: Envelope): Promise<boolean>;
  /** The data key ids rows are sealed under. */
  keyIdsInUse(): Promise<string[]>;
  /** Key check values (src/vault/envelope.ts keyCheck) recorded per data key id. */
  keyChecks(): Promise<Map<string, string>>;
  /** Records a key's check value unless one is recorded. */
  recordKeyCheck(keyId: string, check: string): Promise<void>;
  /** Whether the database answers (a trivial query; `npm run doctor`): throws when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The schema, one entry per version; a version is never edited once released, only added. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Both backends' schema (types that SQLite and PostgreSQL both read the same way). */
export function migrations(binary: 'BLOB' | 'BYTEA'): Migration[] {
  return [
    {
      version: 1,
      name: 'google vault rows and data key checks',
      sql: `
        CREATE TABLE google_vault (
          uid TEXT PRIMARY KEY,
          google_sub TEXT NOT NULL,
          scopes TEXT NOT NULL,
          key_id TEXT NOT NULL,
          nonce ${binary} NOT NULL,
          ciphertext ${binary} NOT NULL,
          tag ${binary} NOT NULL,
          created_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL,
          last_used_at BIGINT
        );
        CREATE INDEX google_vault_key_id ON google_vault (key_id);
        CREATE TABLE google_vault_keys (
          key_id TEXT PRIMARY KEY,
          key_check TEXT NOT NULL
        );`,
    },
  ];
}

export function sameEnvelope(a: Envelope, b: Envelope): boolean {
  return a.keyId === b.keyId && a.nonce.equals(b.nonce) && a.ciphertext.equals(b.ciphertext) && a.tag.equals(b.tag);
}

/** A row as either database hands it back (PostgreSQL reads BIGINT as a string; SQLite as a number or bigint). */
export interface DbRow {
  uid: string;
  google_sub: string;
  scopes: string;
  key_id: string;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
  created_at: string | number | bigint;
  updated_at: string | number | bigint;
  last_used_at: string | number | bigint | null;
}

/** The one mapping of a database row to a VaultRow, for both backends. */
export function rowFromDb(r: DbRow): VaultRow {
  return {
    uid: r.uid,
    googleSub: r.google_sub,
    scopes: JSON.parse(r.scopes) as string[],
    envelope: { keyId: r.key_id, nonce: r.nonce, ciphertext: r.ciphertext, tag: r.tag },
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    ...(r.last_used_at !== null ? { lastUsedAt: Number(r.last_used_at) } : {}),
  };
}
