import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { ConfigError } from '../errors';
import { type HardeningSettings, hardeningSettings } from './hardening';
import { type Env, int, list, oneOf, str, url } from './parse';
import { type GoogleApiConfig, type KeyringSettings, type KeysAdminConfig, googleApiSettings, keyringSettings, keysAdminSettings } from './keys';

export { ConfigError };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The project ID local mode uses: the `demo-` prefix marks a Firebase project that cannot exist. */
export const LOCAL_PROJECT_ID = 'demo-firebridge';
/** The OAuth client ID local mode's emulated Google issues ID tokens for. */
export const LOCAL_CLIENT_ID = 'firebridge-local.apps.googleusercontent.com';

export const DEFAULT_GOOGLE_CERTS_URL = 'https://www.googleapis.com/oauth2/v3/certs';
export const DEFAULT_FIREBASE_CERTS_URL =
  'https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com';

export const MAX_CLOCK_SKEW_SECONDS = 300;

export interface BaseConfig {
  port: number;
  host: string;
  logLevel: LogLevel;
  nodeEnv: string;
  projectId: string;
  googleClientIds: readonly string[];
  googleCertsUrl: string;
  firebaseCertsUrl: string;
  clockSkewSeconds: number;
  certsFetchTimeoutMs: number;
  certsRefetchCooldownMs: number;
  certsMaxStaleSeconds: number;
  maxBodyBytes: number;
  /** Sign-in policy, replay protection, nonces, rate limits, revocation (src/config/hardening.ts). */
  hardening: HardeningSettings;
  /** Most verified Firebase ID tokens kept (src/auth/verified-token-cache.ts); 0 disables the cache. */
  verifiedTokenCacheMaxEntries: number;
  /**
   * FIREBASE_TENANT_ID: the Identity Platform tenant whose users this server serves (configured mode
   * only). Set: Firebase ID tokens must carry it in `firebase.tenant`, custom tokens carry `tenant_id`.
   * Unset: tokens of any tenant are refused.
   */
  tenantId?: string;
}

/** A real deployment: Google's key sets, a service-account key from KEYS_DIR (or keyless signing). */
export interface ConfiguredConfig extends BaseConfig, KeyringSettings {
  mode: 'configured';
  keysDir: string;
  /** ADC and Google API endpoints (keyless signing). */
  googleApis: GoogleApiConfig;
}

/** Local mode: an emulated Google, throwaway keys in localStateDir, a demo- project. */
export interface LocalConfig extends BaseConfig {
  mode: 'local';
  localStateDir: string;
}

export type Config = ConfiguredConfig | LocalConfig;

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/** Identity Platform tenant IDs (e.g. tenant-1-abcde): letters, digits and hyphens, not starting or ending with one. */
const TENANT_ID = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,126}[A-Za-z0-9])?$/;

/** Firebase / Google Cloud project IDs: 6-30 lowercase letters, digits and hyphens, starting with a letter. */
export function isValidProjectId(value: string): boolean {
  return PROJECT_ID.test(value);
}

/**
 * Validates the whole environment once. Throws ConfigError naming the first bad setting.
 * Local mode switches on only when neither FIREBASE_PROJECT_ID nor GOOGLE_CLIENT_IDS is set
 * and NODE_ENV is not "production".
 */
export function loadConfig(env: Env, cwd = process.cwd()): Config {
  const nodeEnv = str(env, 'NODE_ENV') ?? 'development';
  const production = ['production', 'prod'].includes(nodeEnv.toLowerCase());
  for (const name of ['FIREBASE_PROJECT_ID', 'GOOGLE_CLIENT_IDS']) {
    // Set but empty (a missing secret, say) is a mistake, never a request for local mode.
    if (env[name] !== undefined && str(env, name) === undefined) throw new ConfigError(name, 'is set but empty');
  }
  const projectIdRaw = str(env, 'FIREBASE_PROJECT_ID');
  const clientIds = list(env, 'GOOGLE_CLIENT_IDS');
  const local = projectIdRaw === undefined && clientIds === undefined && !production;
  if (local) {
    // Settings only a real deployment has: with any of them, a missing project is a mistake, not local mode.
    for (const name of ['SERVICE_ACCOUNT_EMAIL', 'ADMIN_API_TOKEN', 'CHECK_REVOKED']) {
      if (str(env, name) !== undefined) {
        throw new ConfigError('FIREBASE_PROJECT_ID', `is required when ${name} is set (local mode takes neither)`);
      }
    }
  }

  const shared = {
    port: int(env, 'PORT', 8080, 0, 65535),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
    nodeEnv,
    googleCertsUrl: url(env, 'GOOGLE_CERTS_URL', DEFAULT_GOOGLE_CERTS_URL),
    firebaseCertsUrl: url(env, 'FIREBASE_CERTS_URL', DEFAULT_FIREBASE_CERTS_URL),
    clockSkewSeconds: int(env, 'CLOCK_SKEW_SECONDS', 60, 0, MAX_CLOCK_SKEW_SECONDS),
    certsFetchTimeoutMs: int(env, 'CERTS_FETCH_TIMEOUT_MS', 5000, 100, 60_000),
    // Never 0: it is what keeps a flood of unknown kids (and an outage) from hammering Google.
    certsRefetchCooldownMs: int(env, 'CERTS_REFETCH_COOLDOWN_MS', 10_000, 100, 3_600_000),
    certsMaxStaleSeconds: int(env, 'CERTS_MAX_STALE_SECONDS', 21_600, 0, 7 * 86_400),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 16 * 1024, 256, 1024 * 1024),
    hardening: hardeningSettings(env),
    verifiedTokenCacheMaxEntries: int(env, 'VERIFIED_TOKEN_CACHE_MAX_ENTRIES', 10_000, 0, 1_000_000),
  };

  if (local) {
    // A tenant belongs to a real project: with one, a missing project is a mistake, not local mode.
    if (str(env, 'FIREBASE_TENANT_ID') !== undefined) {
      throw new ConfigError('FIREBASE_PROJECT_ID', 'is required when FIREBASE_TENANT_ID is set (local mode has no tenants)');
    }
    return {
      ...shared,
      mode: 'local',
      // Local mode mints tokens for anyone who asks: it stays on loopback unless told otherwise.
      host: str(env, 'HOST') ?? '127.0.0.1',
      projectId: LOCAL_PROJECT_ID,
      googleClientIds: [LOCAL_CLIENT_ID],
      localStateDir: path.resolve(cwd, str(env, 'LOCAL_STATE_DIR') ?? '.local'),
    };
  }

  if (projectIdRaw === undefined) {
    throw new ConfigError('FIREBASE_PROJECT_ID', 'is required (your Firebase project ID, e.g. my-app-12345)');
  }
  if (!PROJECT_ID.test(projectIdRaw)) {
    throw new ConfigError(
      'FIREBASE_PROJECT_ID',
      `"${projectIdRaw}" is not a valid project ID (6-30 lowercase letters, digits and hyphens, starting with a letter)`,
    );
  }
  if (projectIdRaw.startsWith('demo-')) {
    throw new ConfigError('FIREBASE_PROJECT_ID', 'a demo- project cannot sign in real users; unset it to use local mode');
  }
  if (clientIds === undefined) {
    throw new ConfigError(
      'GOOGLE_CLIENT_IDS',
      'is required (comma-separated OAuth client IDs your apps request Google ID tokens for; Android apps use the web client ID)',
    );
  }
  const tenantId = str(env, 'FIREBASE_TENANT_ID');
  if (tenantId !== undefined && !TENANT_ID.test(tenantId)) {
    throw new ConfigError(
      'FIREBASE_TENANT_ID',
      `"${tenantId}" is not an Identity Platform tenant ID (letters, digits and hyphens, e.g. tenant-1-abcde)`,
    );
  }
  return {
    ...shared,
    ...(tenantId !== undefined ? { tenantId } : {}),
    mode: 'configured',
    host: str(env, 'HOST') ?? '0.0.0.0',
    projectId: projectIdRaw,
    googleClientIds: clientIds,
    keysDir: path.resolve(cwd, str(env, 'KEYS_DIR') ?? 'keys'),
    ...keyringSettings(env, projectIdRaw),
    googleApis: googleApiSettings(env, cwd),
  };
}

export type { GoogleApiConfig, KeysAdminConfig };

/** Settings of the `keys` admin script (KEYS_DIR, KEYS_AUDIT_LOG, IAM_API_URL, ADC...). */
export function loadKeysAdminConfig(env: Env, cwd = process.cwd()): KeysAdminConfig {
  return keysAdminSettings(env, cwd);
}

/** process.env over the settings of `.env` in cwd, when that file exists (process.env wins). */
export function readEnvironment(cwd = process.cwd()): Env {
  const file = path.join(cwd, '.env');
  const fromFile = existsSync(file) ? parseDotenv(readFileSync(file)) : {};
  return { ...fromFile, ...process.env };
}
