import path from 'node:path';
import { ConfigError } from '../errors';
import { type Env, str, url } from './parse';
import { vaultKeysFileOf } from './keys';
import { ConfigProblems } from './problems';

/**
 * Settings of Google account linking (server auth code exchange) and the refresh-token vault.
 * The vault is off, and no database is touched, until GOOGLE_OAUTH_CLIENT_ID is set.
 */

export const DEFAULT_GOOGLE_REVOKE_URL = 'https://oauth2.googleapis.com/revoke';

export interface VaultSettings {
  /** GOOGLE_OAUTH_CLIENT_ID: the web OAuth client the apps request server auth codes for. */
  clientId: string;
  /** GOOGLE_OAUTH_CLIENT_SECRET: that client's secret. */
  clientSecret: string;
  /** GOOGLE_REVOKE_URL. */
  revokeUrl: string;
  /** VAULT_KEYS_FILE: the data keys (default KEYS_DIR/vault-keys.json). */
  keysFile: string;
  /** DATA_DIR: where the SQLite file lives (default ./data). */
  dataDir: string;
  /** DATABASE_URL: PostgreSQL instead of SQLite when set. */
  databaseUrl?: string;
}

export { vaultKeysFileOf };

/** Undefined when GOOGLE_OAUTH_CLIENT_ID is unset (a secret without it is a mistake, and said so). */
export function vaultSettings(env: Env, cwd: string, keysDir: string): VaultSettings | undefined {
  const problems = new ConfigProblems();
  const clientId = str(env, 'GOOGLE_OAUTH_CLIENT_ID');
  const clientSecret = str(env, 'GOOGLE_OAUTH_CLIENT_SECRET');
  if (clientId === undefined) {
    if (env.GOOGLE_OAUTH_CLIENT_ID !== undefined) problems.add(new ConfigError('GOOGLE_OAUTH_CLIENT_ID', 'is set but empty'));
    if (clientSecret !== undefined) {
      problems.add(new ConfigError('GOOGLE_OAUTH_CLIENT_SECRET', 'is set but GOOGLE_OAUTH_CLIENT_ID is not; set both to link Google accounts'));
    }
    problems.throwIfAny();
    return undefined;
  }
  if (!/^[A-Za-z0-9._-]+$/.test(clientId)) {
    problems.add(new ConfigError('GOOGLE_OAUTH_CLIENT_ID', 'is not an OAuth client ID (e.g. 1234-abc.apps.googleusercontent.com)'));
  }
  if (clientSecret === undefined) {
    problems.add(new ConfigError('GOOGLE_OAUTH_CLIENT_SECRET', 'is required with GOOGLE_OAUTH_CLIENT_ID (the web client\'s secret)'));
  }
  const revokeUrl = problems.read(() => url(env, 'GOOGLE_REVOKE_URL', DEFAULT_GOOGLE_REVOKE_URL), DEFAULT_GOOGLE_REVOKE_URL);
  const databaseUrl = str(env, 'DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(?:ql)?:\/\//.test(databaseUrl)) {
    problems.add(new ConfigError('DATABASE_URL', 'must be a postgres:// or postgresql:// URL'));
  }
  problems.throwIfAny();
  return {
    clientId,
    clientSecret: clientSecret as string,
    revokeUrl,
    keysFile: vaultKeysFileOf(env, cwd, keysDir),
    dataDir: path.resolve(cwd, str(env, 'DATA_DIR') ?? 'data'),
    ...(databaseUrl !== undefined ? { databaseUrl } : {}),
  };
}
