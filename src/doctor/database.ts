import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { PostgresVaultRepository } from '../vault/postgres';
import type { VaultRepository } from '../vault/repository';
import { SqliteVaultRepository } from '../vault/sqlite';
import { type DoctorCheck, type Verdict, fail, notApplicable, ok, reasonOf } from './check';

/** How long the database has to answer `SELECT 1` (connecting included). */
export const DATABASE_TIMEOUT_MS = 5000;

async function answers(repository: VaultRepository): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${DATABASE_TIMEOUT_MS} ms`), DATABASE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([repository.ping().then(() => undefined, (err: unknown) => reasonOf(err)), deadline]);
  } finally {
    clearTimeout(timer);
    await repository.close().catch(() => undefined);
  }
}

/** The nearest folder that exists, to see whether DATA_DIR can be created. */
function nearestExisting(dir: string): string {
  let current = dir;
  while (!existsSync(current) && path.dirname(current) !== current) current = path.dirname(current);
  return current;
}

/**
 * The refresh-token vault's database answers (configured with GOOGLE_OAUTH_CLIENT_ID): PostgreSQL at
 * DATABASE_URL, or the SQLite file in DATA_DIR. A SQLite file not created yet is not created here: DATA_DIR
 * only has to be writable for the server to create it.
 */
export const databaseCheck: DoctorCheck = {
  id: 'database',
  name: 'database (vault)',
  async run({ config }): Promise<Verdict> {
    if (config.mode === 'local' || config.vault === undefined) {
      return notApplicable('account linking is off (no GOOGLE_OAUTH_CLIENT_ID): no database is used');
    }
    const { databaseUrl, dataDir } = config.vault;
    if (databaseUrl !== undefined) {
      let host = 'DATABASE_URL';
      try {
        host = `PostgreSQL at ${new URL(databaseUrl).host}`;
      } catch {
        // keep the setting's name: the URL is never printed (it may hold a password)
      }
      const problem = await answers(new PostgresVaultRepository(databaseUrl, undefined, 1));
      if (problem === undefined) return ok(`${host} answers`);
      return fail(`${host} does not answer: ${problem}`, 'check DATABASE_URL (host, port, user, password, database) and that PostgreSQL runs');
    }
    const file = path.join(dataDir, 'firebridge.db');
    if (existsSync(file)) {
      let problem: string | undefined;
      try {
        problem = await answers(new SqliteVaultRepository(file));
      } catch (err) {
        problem = reasonOf(err);
      }
      if (problem === undefined) return ok(`SQLite ${file} answers`);
      return fail(`SQLite ${file} cannot be used: ${problem}`, 'check the file\'s owner and mode (0600, the server\'s user), or set DATABASE_URL');
    }
    const folder = nearestExisting(dataDir);
    try {
      accessSync(folder, constants.W_OK);
    } catch {
      return fail(`SQLite ${file} does not exist and ${folder} is not writable: the server cannot create it`, 'create DATA_DIR writable by the server\'s user, or set DATABASE_URL');
    }
    return ok(`SQLite ${file} does not exist yet; the server creates it at start (${folder} is writable)`);
  },
};
