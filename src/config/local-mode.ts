import { readdirSync, realpathSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import path from 'node:path';
import { ConfigError } from '../errors';
import { MANIFEST_FILE, isKeyFileName } from './keys';
import { type Env, str } from './parse';

/** The project ID local mode uses by default: the `demo-` prefix marks a Firebase project that cannot exist. */
export const DEFAULT_LOCAL_PROJECT_ID = 'demo-firebridge';

const DEMO_PROJECT_ID = /^demo-[a-z0-9-]{0,24}[a-z0-9]$/;

/**
 * LOCAL_PROJECT_ID: the project local mode signs for (to match an Auth Emulator project, say). Only a `demo-`
 * project (6-30 lowercase letters, digits and hyphens), so nothing local mode signs is valid for a real one.
 */
export function localProjectId(env: Env): string {
  const raw = str(env, 'LOCAL_PROJECT_ID');
  if (raw === undefined) return DEFAULT_LOCAL_PROJECT_ID;
  if (!DEMO_PROJECT_ID.test(raw)) {
    throw new ConfigError(
      'LOCAL_PROJECT_ID',
      `"${raw}" must start with demo- (a project that cannot exist) and be a project ID: 6-30 lowercase letters, digits and hyphens, e.g. demo-my-app`,
    );
  }
  return raw;
}

/**
 * When local mode may switch on. It emulates Google and vouches for any identity a caller asks for, so
 * it starts only on a bare environment: a laptop, not a server someone forgot to configure.
 */

/**
 * Settings only a real deployment has. Any of them present (even empty) means FIREBASE_PROJECT_ID and
 * GOOGLE_CLIENT_IDS are missing by mistake: the server stops instead of starting local mode. Local mode
 * has no use for any of them (it never calls Google, reads no credentials, and shares no state).
 */
export const DEPLOYMENT_ONLY_SETTINGS = [
  // signing and Google credentials
  'SERVICE_ACCOUNT_EMAIL',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'KEYS_POLL_INTERVAL_MS',
  'KEYS_AUDIT_LOG',
  // Google endpoints
  'GOOGLE_CERTS_URL',
  'FIREBASE_CERTS_URL',
  'GOOGLE_TOKEN_URL',
  'GCE_METADATA_HOST',
  'IAM_API_URL',
  'IAM_CREDENTIALS_API_URL',
  'GOOGLE_API_TIMEOUT_MS',
  // revocation and the admin API
  'CHECK_REVOKED',
  'REVOCATION_CACHE_SECONDS',
  'IDENTITY_TOOLKIT_URL',
  'ADMIN_API_TOKEN',
  // device sign-in: a shared secret is for instances sharing a store
  'DEVICE_CODE_SECRET',
  // FCM HTTP v1 and the push relay (local mode pushes to its own recording fake)
  'PUSH_API_TOKEN',
  'FCM_API_URL',
  'FCM_MAX_RETRIES',
  'FCM_TIMEOUT_MS',
  // infrastructure
  'REDIS_URL',
  'REDIS_KEY_PREFIX',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_NAME',
  'RATE_LIMIT_ON_STORE_ERROR',
  'TRUST_PROXY',
  // the sign-in policy's lists
  'GOOGLE_HOSTED_DOMAINS',
  'ALLOWED_EMAILS',
  'ALLOWED_EMAIL_DOMAINS',
  'GOOGLE_AZP_ALLOWLIST',
  // Identity Platform: a tenant belongs to a real project
  'FIREBASE_TENANT_ID',
  // Google account linking and the refresh-token vault
  'GOOGLE_OAUTH_CLIENT_ID',
  'GOOGLE_OAUTH_CLIENT_SECRET',
  'GOOGLE_REVOKE_URL',
  'VAULT_KEYS_FILE',
  'DATABASE_URL',
  'DATA_DIR',
] as const;

/** NODE_ENV values of a developer's machine; any other (staging, prd, ...) names a deployment. */
export const LOCAL_NODE_ENVS: readonly string[] = ['development', 'dev', 'test', 'local'];

/** KEYS_DIR as the configured server would read it: the setting, else `keys/` in the working directory. */
export function keysDirOf(env: Env, cwd: string): string {
  return path.resolve(cwd, str(env, 'KEYS_DIR') ?? 'keys');
}

/** What of a keyring the folder holds (key files, or a manifest), or why it cannot be read; undefined: none. */
function keyringIn(dir: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    // Unreadable: it cannot be shown to be empty.
    return `cannot be read (${code ?? 'error'})`;
  }
  const keyFiles = names.filter(isKeyFileName).length;
  if (keyFiles > 0) return `holds ${keyFiles === 1 ? 'a service-account key file' : `${keyFiles} service-account key files`}`;
  if (names.includes(MANIFEST_FILE)) return `holds ${MANIFEST_FILE}`;
  return undefined;
}

/**
 * Why this environment is not bare, one entry per setting found (each naming it); empty: local mode may
 * start. Counts a NODE_ENV other than a developer's, every DEPLOYMENT_ONLY_SETTINGS present, and a keyring
 * in KEYS_DIR (the default `keys/` folder too, when KEYS_DIR is not set).
 */
export function deploymentSettingsPresent(env: Env, cwd: string): string[] {
  const found: string[] = [];
  const nodeEnv = str(env, 'NODE_ENV');
  if (nodeEnv !== undefined && !LOCAL_NODE_ENVS.includes(nodeEnv.toLowerCase())) found.push(`NODE_ENV=${nodeEnv}`);
  for (const name of DEPLOYMENT_ONLY_SETTINGS) if (env[name] !== undefined) found.push(name);
  const keysDir = keysDirOf(env, cwd);
  const keyring = keyringIn(keysDir);
  if (keyring !== undefined) found.push(`KEYS_DIR (${keysDir} ${keyring})`);
  return found;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** A listening address only this machine can reach: 127.0.0.0/8, ::1 (any spelling), localhost. */
export function isLoopbackHost(host: string): boolean {
  const address = host.replace(/^\[(.*)\]$/, '$1');
  if (address.toLowerCase() === 'localhost') return true;
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The path with every symlink of its existing part resolved, so a link cannot hide one folder inside another. */
function canonical(file: string): string {
  const tail: string[] = [];
  let current = path.resolve(file);
  // Ends at the root at the latest: one step per path component.
  for (;;) {
    try {
      return path.join(realpathSync.native(current), ...tail);
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return path.join(current, ...tail);
      tail.unshift(path.basename(current));
      current = parent;
    }
  }
}

function isSameOrInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

/** LOCAL_STATE_DIR may be neither KEYS_DIR nor inside it: local mode's throwaway keys never mix with real ones. */
export function checkLocalStateDir(stateDir: string, keysDir: string): ConfigError | undefined {
  if (isSameOrInside(stateDir, keysDir) || isSameOrInside(canonical(stateDir), canonical(keysDir))) {
    return new ConfigError(
      'LOCAL_STATE_DIR',
      `${stateDir} is KEYS_DIR (${keysDir}) or inside it; local mode keeps its throwaway keys apart from real ones`,
    );
  }
  return undefined;
}
