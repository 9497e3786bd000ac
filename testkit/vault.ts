import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import type { Clock } from '../src/clock';
import { GoogleOAuth } from '../src/google/oauth';
import { writeFileAtomic } from '../src/keys/atomic-write';
import { ReloadingDataKeys } from '../src/vault/data-keys';
import { PostgresVaultRepository } from '../src/vault/postgres';
import type { VaultRepository } from '../src/vault/repository';
import { createDataKeyFile } from '../src/vault/rotation';
import { SqliteVaultRepository } from '../src/vault/sqlite';
import { GoogleVault } from '../src/vault/vault';
import type { FakeOAuth } from './fake-oauth';
import { LogCapture } from './harness';
import { createLogger } from '../src/logger';

/** A fresh VAULT_KEYS_FILE (one data key) in a temp folder. */
export function vaultKeyFile(dir = mkdtempSync(path.join(tmpdir(), 'firebridge-vault-keys-'))): string {
  const file = path.join(dir, 'vault-keys.json');
  createDataKeyFile({ keysFile: file, clock: Date.now, write: writeFileAtomic, exists: () => false, audit: () => undefined });
  return file;
}

/** The env of a bridge with account linking on, against the fake OAuth endpoints, SQLite in a temp DATA_DIR. */
export function vaultEnv(oauth: FakeOAuth, keysFile: string, dataDir = mkdtempSync(path.join(tmpdir(), 'firebridge-data-'))): Record<string, string> {
  return {
    GOOGLE_OAUTH_CLIENT_ID: oauth.clientId,
    GOOGLE_OAUTH_CLIENT_SECRET: oauth.clientSecret,
    GOOGLE_TOKEN_URL: oauth.tokenUrl,
    GOOGLE_REVOKE_URL: oauth.revokeUrl,
    VAULT_KEYS_FILE: keysFile,
    DATA_DIR: dataDir,
  };
}

export type Backend = 'sqlite' | 'postgres';
/** Both backends when DATABASE_URL is set (PostgreSQL at 127.0.0.1), else SQLite only. */
export const BACKENDS: Backend[] = process.env.DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

let schemas = 0;
/** A migrated repository: SQLite in a temp file, or PostgreSQL in a schema of its own (dropped by `drop`). */
export async function openRepository(backend: Backend): Promise<{ repository: VaultRepository; file?: string; schema?: string; drop(): Promise<void> }> {
  if (backend === 'sqlite') {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-db-')), 'firebridge.db');
    const repository = new SqliteVaultRepository(file);
    await repository.migrate();
    return { repository, file, drop: () => repository.close() };
  }
  const schema = `fb_vault_g_${process.pid}_${(schemas += 1)}`;
  const repository = new PostgresVaultRepository(process.env.DATABASE_URL as string, schema, 20);
  await repository.migrate();
  return {
    repository,
    schema,
    drop: async () => {
      await repository.close();
      const admin = new Client({ connectionString: process.env.DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}

export interface TestVault {
  vault: GoogleVault;
  keys: ReloadingDataKeys;
  logs: LogCapture;
}

/** `keysClock`: the clock of the key file's hot reload (default `clock`). */
export function vaultOn(repository: VaultRepository, oauth: FakeOAuth, keysFile: string, clock: Clock = Date.now, keysClock: Clock = clock): TestVault {
  const logs = new LogCapture();
  const keys = new ReloadingDataKeys(keysFile, keysClock);
  const vault = new GoogleVault({
    repository,
    keys,
    oauth: new GoogleOAuth({
      clientId: oauth.clientId,
      clientSecret: oauth.clientSecret,
      tokenUrl: oauth.tokenUrl,
      revokeUrl: oauth.revokeUrl,
      fetch: globalThis.fetch,
      clock,
      timeoutMs: 5000,
    }),
    clientId: oauth.clientId,
    clock,
    logger: createLogger('info', logs),
  });
  return { vault, keys, logs };
}

export const silent = pino({ level: 'silent' });
