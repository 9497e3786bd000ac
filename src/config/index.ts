import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { ConfigError } from '../errors';
import { isProductionNodeEnv } from './node-env';
import { type HardeningSettings, bool, hardeningSettings } from './hardening';
import { type DeviceCodeSettings, deviceCodeSettings } from './device';
import { type AuthzSettings, authzSettings } from './authz';
import { type HttpServerSettings, httpServerSettings } from './http';
import { type MetricsSettings, metricsSettings } from './metrics';
import { type Env, int, list, oneOf, str, url } from './parse';
import { DEFAULT_LOCAL_PROJECT_ID, checkLocalStateDir, deploymentSettingsPresent, isLoopbackHost, keysDirOf, localProjectId } from './local-mode';
import { type CorsSettings, corsSettings } from './cors';
import { type AuthEmulatorSettings, authEmulatorSettings } from './emulator';
import { ConfigProblems } from './problems';
import { type FcmSettings, type PushSettings, fcmSettings, pushSettings } from './push';
import { type VaultSettings, vaultSettings } from './vault';
import { type AuditSettings, auditSettings } from './audit';
import { type GoogleApiConfig, type KeyringSettings, type KeysAdminConfig, googleApiSettings, keyringSettings, keysAdminSettings } from './keys';

export { ConfigError };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** `json` (one JSON object a line, for machines) or `pretty` (pino-pretty, for a developer's terminal). */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Local mode's default project ID (LOCAL_PROJECT_ID may name another demo- one: read config.projectId). */
export { DEFAULT_LOCAL_PROJECT_ID as LOCAL_PROJECT_ID };
/** The OAuth client ID local mode's emulated Google issues ID tokens for. */
export const LOCAL_CLIENT_ID = 'firebridge-local.apps.googleusercontent.com';

export const DEFAULT_GOOGLE_CERTS_URL = 'https://www.googleapis.com/oauth2/v3/certs';
export const DEFAULT_FIREBASE_CERTS_URL =
  'https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com';

export const MAX_CLOCK_SKEW_SECONDS = 300;

/** Defaults and bounds of the settings the server and the library's firebaseVerifier() share. */
export const VERIFIER_BOUNDS = {
  clockSkewSeconds: { def: 60, min: 0, max: MAX_CLOCK_SKEW_SECONDS },
  certsFetchTimeoutMs: { def: 5000, min: 100, max: 60_000 },
  // Never 0: it is what keeps a flood of unknown kids (and an outage) from hammering Google.
  certsRefetchCooldownMs: { def: 10_000, min: 100, max: 3_600_000 },
  certsMaxStaleSeconds: { def: 21_600, min: 0, max: 7 * 86_400 },
  verifiedTokenCacheMaxEntries: { def: 10_000, min: 0, max: 1_000_000 },
} as const;

export interface BaseConfig {
  port: number;
  host: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
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
  /** Timeouts and connection cap of the HTTP server (src/config/http.ts). */
  http: HttpServerSettings;
  /** Device sign-in with a pushed one-time code (src/config/device.ts). */
  device: DeviceCodeSettings;
  /** Forward-auth (/v1/authz): the cookie and the rules every request must meet (src/config/authz.ts). */
  authz: AuthzSettings;
  /** CORS_ORIGINS: the web origins browsers may call from (src/config/cors.ts). */
  cors: CorsSettings;
  /** The tamper-evident audit trail: AUDIT_LOG, AUDIT_HMAC_KEY_FILE, AUDIT_INCLUDE_EMAIL, AUDIT_MAX_BYTES (src/config/audit.ts). */
  audit: AuditSettings;
  /** GET /metrics: on or off, on the main port or its own, its scrape credential (src/config/metrics.ts). */
  metrics: MetricsSettings;
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
  /** FCM HTTP v1 and the push relay (src/config/push.ts). */
  push: PushSettings;
  /** Google account linking and the refresh-token vault; undefined (off) without GOOGLE_OAUTH_CLIENT_ID. */
  vault?: VaultSettings;
  /**
   * FIREBASE_AUTH_EMULATOR_HOST (src/config/emulator.ts): the official Auth Emulator. Set: its unsigned
   * ID tokens are accepted, custom tokens are unsigned, Identity Toolkit calls go to it. Never in production.
   */
  authEmulator?: AuthEmulatorSettings;
}

/** Local mode: an emulated Google, throwaway keys in localStateDir, a demo- project. */
export interface LocalConfig extends BaseConfig {
  mode: 'local';
  localStateDir: string;
}

export type Config = ConfiguredConfig | LocalConfig;

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/** A setting with the shared bounds; a bad value is collected by `read` (and the default stands in). */
function bounded(read: <T>(parse: () => T, fallback: T) => T, env: Env, name: string, b: { def: number; min: number; max: number }): number {
  return read(() => int(env, name, b.def, b.min, b.max), b.def);
}
/** Identity Platform tenant IDs (e.g. tenant-1-abcde): letters, digits and hyphens, not starting or ending with one. */
const TENANT_ID = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,126}[A-Za-z0-9])?$/;

/** An Identity Platform tenant ID. `name` is the setting or option. */
export function checkTenantId(name: string, value: string): string {
  if (!TENANT_ID.test(value)) {
    throw new ConfigError(name, `"${value}" is not an Identity Platform tenant ID (letters, digits and hyphens, e.g. tenant-1-abcde)`);
  }
  return value;
}

/** Firebase / Google Cloud project IDs: 6-30 lowercase letters, digits and hyphens, starting with a letter. */
export function isValidProjectId(value: string): boolean {
  return PROJECT_ID.test(value);
}

/**
 * A real project's ID (never a demo- one, which cannot sign in real users, unless `allowDemo`: the
 * Auth Emulator's). `name` is the setting or option.
 */
export function checkProjectId(name: string, value: string, allowDemo = false): string {
  if (!PROJECT_ID.test(value)) {
    throw new ConfigError(
      name,
      `"${value}" is not a valid project ID (6-30 lowercase letters, digits and hyphens, starting with a letter)`,
    );
  }
  if (value.startsWith('demo-') && !allowDemo) {
    throw new ConfigError(
      name,
      'a demo- project cannot sign in real users; unset it to use local mode, or set FIREBASE_AUTH_EMULATOR_HOST to use it with the Firebase Auth Emulator',
    );
  }
  return value;
}

/**
 * Validates the whole environment once. Throws one ConfigError listing every bad setting (each
 * named; `setting` is the first one's), so a deployment is fixed in one restart, not one per setting.
 * Local mode switches on only when neither FIREBASE_PROJECT_ID nor GOOGLE_CLIENT_IDS is set and
 * NODE_ENV is not "production"; it then starts only on a bare environment (no setting only a deployment
 * has, no keyring in KEYS_DIR), on loopback unless LOCAL_MODE_PUBLIC=true, with LOCAL_STATE_DIR outside KEYS_DIR.
 */
export function loadConfig(env: Env, cwd = process.cwd()): Config {
  const problems = new ConfigProblems();
  const read = <T>(parse: () => T, fallback: T): T => problems.read(parse, fallback);
  const nodeEnv = str(env, 'NODE_ENV') ?? 'development';
  const production = isProductionNodeEnv(nodeEnv);
  for (const name of ['FIREBASE_PROJECT_ID', 'GOOGLE_CLIENT_IDS']) {
    // Set but empty (a missing secret, say) is a mistake, never a request for local mode.
    if (env[name] !== undefined && str(env, name) === undefined) problems.add(new ConfigError(name, 'is set but empty'));
  }
  const projectIdRaw = str(env, 'FIREBASE_PROJECT_ID');
  const clientIds = read(() => list(env, 'GOOGLE_CLIENT_IDS'), undefined);
  const local = env.FIREBASE_PROJECT_ID === undefined && env.GOOGLE_CLIENT_IDS === undefined && !production;
  // Local mode vouches for any identity: it starts only on a bare environment (src/config/local-mode.ts).
  const deployment = local ? deploymentSettingsPresent(env, cwd) : [];
  if (deployment.length > 0) {
    problems.add(
      new ConfigError(
        'FIREBASE_PROJECT_ID',
        `is required: settings only a deployment has are present (${deployment.join(', ')}), and local mode ` +
          'starts only without them. Set FIREBASE_PROJECT_ID and GOOGLE_CLIENT_IDS, or remove those settings for local mode',
      ),
    );
  }
  // The official Auth Emulator: configured mode only, never in production (src/config/emulator.ts).
  const authEmulator = read(() => authEmulatorSettings(env, { local, production }), undefined);
  // LOCAL_MODE_PUBLIC=true lets local mode listen on a non-loopback HOST (a phone on the LAN); checked in every mode.
  const localModePublic = read(() => bool(env, 'LOCAL_MODE_PUBLIC', false), false);

  const port = read(() => int(env, 'PORT', 8080, 0, 65535), 8080);
  const secrets = { ADMIN_API_TOKEN: str(env, 'ADMIN_API_TOKEN'), PUSH_API_TOKEN: str(env, 'PUSH_API_TOKEN') };
  const shared = {
    port,
    logLevel: read(() => oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS), 'info'),
    logFormat: read(() => logFormatOf(env, production), 'json'),
    nodeEnv,
    googleCertsUrl: read(() => url(env, 'GOOGLE_CERTS_URL', DEFAULT_GOOGLE_CERTS_URL), DEFAULT_GOOGLE_CERTS_URL),
    firebaseCertsUrl: read(() => url(env, 'FIREBASE_CERTS_URL', DEFAULT_FIREBASE_CERTS_URL), DEFAULT_FIREBASE_CERTS_URL),
    clockSkewSeconds: bounded(read, env, 'CLOCK_SKEW_SECONDS', VERIFIER_BOUNDS.clockSkewSeconds),
    certsFetchTimeoutMs: bounded(read, env, 'CERTS_FETCH_TIMEOUT_MS', VERIFIER_BOUNDS.certsFetchTimeoutMs),
    certsRefetchCooldownMs: bounded(read, env, 'CERTS_REFETCH_COOLDOWN_MS', VERIFIER_BOUNDS.certsRefetchCooldownMs),
    certsMaxStaleSeconds: bounded(read, env, 'CERTS_MAX_STALE_SECONDS', VERIFIER_BOUNDS.certsMaxStaleSeconds),
    maxBodyBytes: read(() => int(env, 'MAX_BODY_BYTES', 16 * 1024, 256, 1024 * 1024), 16 * 1024),
    hardening: read(() => hardeningSettings(env), hardeningSettings({})),
    verifiedTokenCacheMaxEntries: bounded(read, env, 'VERIFIED_TOKEN_CACHE_MAX_ENTRIES', VERIFIER_BOUNDS.verifiedTokenCacheMaxEntries),
    http: read(() => httpServerSettings(env), httpServerSettings({})),
    device: read(() => deviceCodeSettings(env, local), deviceCodeSettings({}, local)),
    authz: read(() => authzSettings(env), authzSettings({})),
    cors: read(() => corsSettings(env, local), corsSettings({}, local)),
    audit: read(() => auditSettings(env, cwd), auditSettings({}, cwd)),
    metrics: read(() => metricsSettings(env, port, secrets), metricsSettings({}, port)),
  };
  // Checked in every mode (like LOCAL_STATE_DIR, it may stay in a deployment's .env, where it is ignored).
  const localProject = read(() => localProjectId(env), DEFAULT_LOCAL_PROJECT_ID);

  if (local) {
    // Local mode mints tokens for anyone who asks: it stays on loopback unless told otherwise.
    const host = str(env, 'HOST') ?? '127.0.0.1';
    const localStateDir = path.resolve(cwd, str(env, 'LOCAL_STATE_DIR') ?? '.local');
    if (deployment.length === 0) {
      if (!isLoopbackHost(host) && !localModePublic) {
        problems.add(
          new ConfigError(
            'HOST',
            `"${host}" is not a loopback address; local mode mints tokens for any identity, so it listens on the ` +
              'network only with LOCAL_MODE_PUBLIC=true (e.g. to test from a phone on your LAN)',
          ),
        );
      }
      const stateDirProblem = checkLocalStateDir(localStateDir, keysDirOf(env, cwd));
      if (stateDirProblem) problems.add(stateDirProblem);
    }
    problems.throwIfAny();
    return {
      ...shared,
      mode: 'local',
      host,
      projectId: localProject,
      googleClientIds: [LOCAL_CLIENT_ID],
      localStateDir,
    };
  }

  let projectId: string | undefined;
  if (projectIdRaw === undefined) {
    if (env.FIREBASE_PROJECT_ID === undefined) {
      problems.add(new ConfigError('FIREBASE_PROJECT_ID', 'is required (your Firebase project ID, e.g. my-app-12345)'));
    }
  } else {
    // A demo- project is one only the Auth Emulator knows: allowed with it.
    projectId = read(() => checkProjectId('FIREBASE_PROJECT_ID', projectIdRaw, authEmulator !== undefined), undefined);
  }
  if (clientIds === undefined && env.GOOGLE_CLIENT_IDS === undefined) {
    problems.add(
      new ConfigError(
        'GOOGLE_CLIENT_IDS',
        'is required (comma-separated OAuth client IDs your apps request Google ID tokens for; Android apps use the web client ID)',
      ),
    );
  }
  const tenantRaw = str(env, 'FIREBASE_TENANT_ID');
  const tenantId = tenantRaw === undefined ? undefined : read(() => checkTenantId('FIREBASE_TENANT_ID', tenantRaw), undefined);
  const keyring = read(() => keyringSettings(env, projectId), keyringSettings({}, undefined));
  const googleApis = read(() => googleApiSettings(env, cwd), googleApiSettings({}, cwd));
  const push = read(() => pushSettings(env), pushSettings({}));
  const keysDir = path.resolve(cwd, str(env, 'KEYS_DIR') ?? 'keys');
  const vault = read(() => vaultSettings(env, cwd, keysDir), undefined);
  problems.throwIfAny();
  return {
    ...shared,
    ...(tenantId !== undefined ? { tenantId } : {}),
    mode: 'configured',
    host: str(env, 'HOST') ?? '0.0.0.0',
    projectId: projectId as string,
    googleClientIds: clientIds as string[],
    keysDir,
    ...keyring,
    googleApis,
    push,
    ...(vault !== undefined ? { vault } : {}),
    ...(authEmulator !== undefined ? { authEmulator } : {}),
  };
}

/** LOG_FORMAT: pretty is for a person at a terminal; production logs JSON, which log pipelines parse. */
function logFormatOf(env: Env, production: boolean): LogFormat {
  const format = oneOf(env, 'LOG_FORMAT', 'json', LOG_FORMATS);
  if (format === 'pretty' && production) {
    throw new ConfigError('LOG_FORMAT', 'is "pretty", which is for development; NODE_ENV=production logs JSON (one object a line) for log pipelines');
  }
  return format;
}

export type { AuditSettings, AuthEmulatorSettings, AuthzSettings, CorsSettings, DeviceCodeSettings, FcmSettings, GoogleApiConfig, HttpServerSettings, KeysAdminConfig, MetricsSettings, PushSettings, VaultSettings };
export { vaultKeysFileOf } from './vault';

/** Settings of the `push` admin script: the project, the signing key (or ADC) and FCM. */
export interface PushCliConfig {
  projectId: string;
  keysDir: string;
  googleApis: GoogleApiConfig;
  fcm: FcmSettings;
}

/** The `push` script's settings; throws one ConfigError naming every bad one. */
export function loadPushCliConfig(env: Env, cwd = process.cwd()): PushCliConfig {
  const problems = new ConfigProblems();
  const raw = str(env, 'FIREBASE_PROJECT_ID');
  if (raw === undefined) problems.add(new ConfigError('FIREBASE_PROJECT_ID', 'is required (the Firebase project FCM sends for)'));
  const projectId = raw === undefined ? undefined : problems.read(() => checkProjectId('FIREBASE_PROJECT_ID', raw), undefined);
  const googleApis = problems.read(() => googleApiSettings(env, cwd), googleApiSettings({}, cwd));
  const fcm = problems.read(() => fcmSettings(env), fcmSettings({}));
  problems.throwIfAny();
  return { projectId: projectId as string, keysDir: path.resolve(cwd, str(env, 'KEYS_DIR') ?? 'keys'), googleApis, fcm };
}

/** Settings of the `keys` admin script (KEYS_DIR, KEYS_AUDIT_LOG, IAM_API_URL, ADC...). */
export function loadKeysAdminConfig(env: Env, cwd = process.cwd()): KeysAdminConfig {
  const problems = new ConfigProblems();
  const keys = problems.read(() => keysAdminSettings(env, cwd), undefined);
  const audit = problems.read(() => auditSettings(env, cwd), undefined);
  problems.throwIfAny();
  return { ...(keys as KeysAdminConfig), auditChain: audit as AuditSettings };
}

/** Settings of `npm run audit`: the server's audit settings (AUDIT_LOG, AUDIT_HMAC_KEY_FILE). */
export function loadAuditCliConfig(env: Env, cwd = process.cwd()): AuditSettings {
  return auditSettings(env, cwd);
}

/** process.env over the settings of `.env` in cwd, when that file exists (process.env wins). */
export function readEnvironment(cwd = process.cwd()): Env {
  const file = path.join(cwd, '.env');
  const fromFile = existsSync(file) ? parseDotenv(readFileSync(file)) : {};
  return { ...fromFile, ...process.env };
}
