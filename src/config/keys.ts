import path from 'node:path';
import { ConfigError } from '../errors';
import { type Env, int, str, url } from './parse';
import type { AuditSettings } from './audit';
import { ConfigProblems } from './problems';

/**
 * Settings of key management: the keyring's hot reload, keyless signing and the Google APIs the
 * `keys` admin script and the keyless signer call. Parsed from the Env src/config/index.ts reads.
 */

/** The keyring manifest's file name inside KEYS_DIR (src/keys/manifest.ts reads and writes it). */
export const MANIFEST_FILE = 'keyring.json';

/** The vault's data keys (src/config/vault.ts): in KEYS_DIR by default, never a service-account key. */
export const VAULT_KEYS_FILE = 'vault-keys.json';

/** VAULT_KEYS_FILE, else KEYS_DIR/vault-keys.json. */
export function vaultKeysFileOf(env: Env, cwd: string, keysDir: string): string {
  const file = str(env, 'VAULT_KEYS_FILE');
  return file === undefined ? path.join(keysDir, VAULT_KEYS_FILE) : path.resolve(cwd, file);
}

/**
 * Key files are KEYS_DIR's visible *.json files, except the manifest and the vault's data keys: what
 * the keyring loads and local mode refuses to start beside.
 */
export function isKeyFileName(name: string): boolean {
  return name.endsWith('.json') && !name.startsWith('.') && name !== MANIFEST_FILE && name !== VAULT_KEYS_FILE;
}

export const DEFAULT_GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const DEFAULT_IAM_API_URL = 'https://iam.googleapis.com';
export const DEFAULT_IAM_CREDENTIALS_API_URL = 'https://iamcredentials.googleapis.com';
export const DEFAULT_GCE_METADATA_HOST = 'metadata.google.internal';

/** Where Application Default Credentials come from, and the Google endpoints they are used with. */
export interface GoogleApiConfig {
  /** GOOGLE_APPLICATION_CREDENTIALS: a service_account or authorized_user JSON file. */
  credentialsFile?: string;
  /** gcloud's well-known ADC file (`gcloud auth application-default login`), used when present. */
  wellKnownCredentialsFile?: string;
  /** GOOGLE_TOKEN_URL: OAuth 2.0 token endpoint. */
  tokenUrl: string;
  /** GCE_METADATA_HOST: the metadata server (plain http, as on Google Cloud). */
  metadataHost: string;
  /** IAM_API_URL: base of the IAM API (service-account keys). */
  iamApiUrl: string;
  /** IAM_CREDENTIALS_API_URL: base of the IAM Credentials API (signBlob). */
  iamCredentialsUrl: string;
  /** GOOGLE_API_TIMEOUT_MS: timeout of every call to these endpoints. */
  timeoutMs: number;
}

/** Settings of the running server's keyring. */
export interface KeyringSettings {
  /** KEYS_POLL_INTERVAL_MS: how often KEYS_DIR is re-read (besides fs.watch and SIGHUP); 0 = never. */
  keysPollIntervalMs: number;
  /** SERVICE_ACCOUNT_EMAIL: the account keyless signing signs as (when KEYS_DIR holds no key file). */
  serviceAccountEmail?: string;
}

const METADATA_HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:]+\](?::\d{1,5})?$/;
const EMAIL = /^[^@\s]+@[^@\s]+$/;

/** Drops a trailing slash so bases can be joined with "/v1/...". */
function base(env: Env, name: string, def: string): string {
  return url(env, name, def).replace(/\/+$/, '');
}

export function googleApiSettings(env: Env, cwd: string): GoogleApiConfig {
  const problems = new ConfigProblems();
  const credentials = str(env, 'GOOGLE_APPLICATION_CREDENTIALS');
  const metadataHost = str(env, 'GCE_METADATA_HOST') ?? DEFAULT_GCE_METADATA_HOST;
  if (!METADATA_HOST.test(metadataHost)) {
    problems.add(new ConfigError('GCE_METADATA_HOST', `must be a host name or host:port, got "${metadataHost}"`));
  }
  const gcloudDir = str(env, 'CLOUDSDK_CONFIG') ?? (str(env, 'HOME') ? path.join(str(env, 'HOME') as string, '.config', 'gcloud') : undefined);
  const settings: GoogleApiConfig = {
    credentialsFile: credentials === undefined ? undefined : path.resolve(cwd, credentials),
    wellKnownCredentialsFile: gcloudDir ? path.join(gcloudDir, 'application_default_credentials.json') : undefined,
    tokenUrl: problems.read(() => url(env, 'GOOGLE_TOKEN_URL', DEFAULT_GOOGLE_TOKEN_URL), DEFAULT_GOOGLE_TOKEN_URL),
    metadataHost,
    iamApiUrl: problems.read(() => base(env, 'IAM_API_URL', DEFAULT_IAM_API_URL), DEFAULT_IAM_API_URL),
    iamCredentialsUrl: problems.read(
      () => base(env, 'IAM_CREDENTIALS_API_URL', DEFAULT_IAM_CREDENTIALS_API_URL),
      DEFAULT_IAM_CREDENTIALS_API_URL,
    ),
    timeoutMs: problems.read(() => int(env, 'GOOGLE_API_TIMEOUT_MS', 10_000, 100, 120_000), 10_000),
  };
  problems.throwIfAny();
  return settings;
}

/**
 * The project a service account belongs to, when its email says so (user-managed
 * <name>@<project>.iam.gserviceaccount.com, App Engine default <project>@appspot.gserviceaccount.com).
 */
export function projectOfServiceAccount(email: string): string | undefined {
  return (
    /@([^@]+)\.iam\.gserviceaccount\.com$/.exec(email)?.[1] ?? /^([^@]+)@appspot\.gserviceaccount\.com$/.exec(email)?.[1]
  );
}

/** `projectId` undefined (FIREBASE_PROJECT_ID itself is bad): the account's project is not compared. */
export function keyringSettings(env: Env, projectId: string | undefined): KeyringSettings {
  const problems = new ConfigProblems();
  const email = str(env, 'SERVICE_ACCOUNT_EMAIL');
  if (email !== undefined) {
    const owner = projectOfServiceAccount(email);
    if (!EMAIL.test(email)) {
      problems.add(new ConfigError('SERVICE_ACCOUNT_EMAIL', `"${email}" is not an email address`));
    } else if (owner !== undefined && projectId !== undefined && owner !== projectId) {
      problems.add(
        new ConfigError(
          'SERVICE_ACCOUNT_EMAIL',
          `${email} belongs to project "${owner}", not FIREBASE_PROJECT_ID "${projectId}"; custom tokens it signs would be refused by Firebase`,
        ),
      );
    }
  }
  const settings: KeyringSettings = {
    keysPollIntervalMs: problems.read(() => int(env, 'KEYS_POLL_INTERVAL_MS', 2000, 0, 3_600_000), 2000),
    serviceAccountEmail: email,
  };
  problems.throwIfAny();
  return settings;
}

/** Settings of the `keys` admin script. */
export interface KeysAdminConfig extends GoogleApiConfig {
  keysDir: string;
  /** FIREBASE_PROJECT_ID when set: new keys must belong to it. */
  projectId?: string;
  /** KEYS_AUDIT_LOG: the audit trail (default KEYS_DIR/audit.log), in the chain format of src/audit. */
  auditLog: string;
  /** The chain's HMAC key and rotation size (AUDIT_HMAC_KEY_FILE, AUDIT_MAX_BYTES); its `file` is the server's, not used here. */
  auditChain: Pick<AuditSettings, 'hmacKey' | 'maxBytes' | 'includeEmail'>;
  /** SERVICE_ACCOUNT_EMAIL when set: the account `rotate --create` creates a key for. */
  serviceAccountEmail?: string;
  /** VAULT_KEYS_FILE (default KEYS_DIR/vault-keys.json): `vault-key create | rotate`. */
  vaultKeysFile: string;
  /** DATA_DIR (default ./data): the SQLite vault `vault-key rotate` re-encrypts. */
  dataDir: string;
  /** DATABASE_URL: the PostgreSQL vault instead, when set. */
  databaseUrl?: string;
}

export function keysAdminSettings(env: Env, cwd: string): Omit<KeysAdminConfig, 'auditChain'> {
  const keysDir = path.resolve(cwd, str(env, 'KEYS_DIR') ?? 'keys');
  const projectId = str(env, 'FIREBASE_PROJECT_ID');
  const email = str(env, 'SERVICE_ACCOUNT_EMAIL');
  if (email !== undefined && !EMAIL.test(email)) {
    throw new ConfigError('SERVICE_ACCOUNT_EMAIL', `"${email}" is not an email address`);
  }
  const audit = str(env, 'KEYS_AUDIT_LOG');
  return {
    ...googleApiSettings(env, cwd),
    keysDir,
    projectId,
    auditLog: audit === undefined ? path.join(keysDir, 'audit.log') : path.resolve(cwd, audit),
    serviceAccountEmail: email,
    vaultKeysFile: vaultKeysFileOf(env, cwd, keysDir),
    dataDir: path.resolve(cwd, str(env, 'DATA_DIR') ?? 'data'),
    ...(str(env, 'DATABASE_URL') !== undefined ? { databaseUrl: str(env, 'DATABASE_URL') } : {}),
  };
}
