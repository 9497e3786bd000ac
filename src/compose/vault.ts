import pino from 'pino';
import { systemClock } from '../clock';
import type { Config, ConfiguredConfig, VaultSettings } from '../config';
import { ConfigError, VaultKeyError } from '../errors';
import { GoogleOAuth } from '../google/oauth';
import { ReloadingDataKeys } from '../vault/data-keys';
import { PostgresVaultRepository } from '../vault/postgres';
import type { VaultRepository } from '../vault/repository';
import { SqliteVaultRepository } from '../vault/sqlite';
import { GoogleVault } from '../vault/vault';
import type { Runtime } from './verifiers';

/** The vault's storage: PostgreSQL when DATABASE_URL is set, else SQLite in DATA_DIR/firebridge.db. */
export function openVaultRepository(settings: Pick<VaultSettings, 'dataDir' | 'databaseUrl'>): VaultRepository {
  return settings.databaseUrl !== undefined
    ? new PostgresVaultRepository(settings.databaseUrl)
    : SqliteVaultRepository.inDataDir(settings.dataDir);
}

/**
 * Builds the vault of a configured server: its data keys (a missing or bad VAULT_KEYS_FILE stops the
 * start here, naming the command that creates it), the storage, and Google's OAuth endpoints.
 * `start()` (migrations, the data key checks) is run by the caller before serving.
 */
export function buildGoogleVault(config: ConfiguredConfig, settings: VaultSettings, runtime: Runtime): GoogleVault {
  const { logger, clock } = runtime;
  let keys: ReloadingDataKeys;
  try {
    keys = new ReloadingDataKeys(settings.keysFile, clock, (ids, err) => {
      if (err) logger.error({ err: err.message }, 'VAULT_KEYS_FILE changed but cannot be used; the data keys in use stay');
      else logger.info({ keyIds: ids }, 'vault data keys reloaded');
    });
  } catch (err) {
    if (err instanceof VaultKeyError) throw new ConfigError('VAULT_KEYS_FILE', err.message);
    throw err;
  }
  const oauth = new GoogleOAuth({
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    tokenUrl: config.googleApis.tokenUrl,
    revokeUrl: settings.revokeUrl,
    fetch: runtime.fetch,
    clock,
    timeoutMs: config.googleApis.timeoutMs,
  });
  return new GoogleVault({ repository: openVaultRepository(settings), keys, oauth, clientId: settings.clientId, clock, logger });
}

/** Migrations, then the data key checks; a wrong key file is a start-up error naming VAULT_KEYS_FILE. */
export async function startGoogleVault(vault: GoogleVault, settings: VaultSettings): Promise<void> {
  try {
    await vault.start(settings.keysFile);
  } catch (err) {
    await vault.close().catch(() => undefined);
    if (err instanceof VaultKeyError) throw new ConfigError('VAULT_KEYS_FILE', err.message);
    throw err;
  }
}

export interface GoogleVaultOptions extends Partial<Runtime> {}

/**
 * The library's vault, for the owner's code without HTTP (a nightly job calling Drive per user):
 * `accessTokenFor(uid, {scope})`, `unlink(uid)`, `linkedScopes(uid)`, `close()`. Same settings as the server.
 */
export async function createGoogleVault(config: Config, options: GoogleVaultOptions = {}): Promise<GoogleVault> {
  if (config.mode !== 'configured' || config.vault === undefined) {
    throw new ConfigError('GOOGLE_OAUTH_CLIENT_ID', 'is required for the Google vault (with GOOGLE_OAUTH_CLIENT_SECRET), outside local mode');
  }
  const runtime: Runtime = {
    logger: options.logger ?? pino({ level: 'warn' }),
    clock: options.clock ?? systemClock,
    fetch: options.fetch ?? globalThis.fetch,
  };
  const vault = buildGoogleVault(config, config.vault, runtime);
  await startGoogleVault(vault, config.vault);
  return vault;
}
