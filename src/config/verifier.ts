import { checkInt, checkUrl } from './parse';
import { DEFAULT_FIREBASE_CERTS_URL, VERIFIER_BOUNDS, checkProjectId, checkTenantId, isValidProjectId } from './index';
import { isLoopbackHost } from './local-mode';

/**
 * A `demo-` project (one that cannot exist) is verified only against keys on this machine: local mode's
 * (`http://127.0.0.1:8080/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com`) or an emulator's.
 */
function checkVerifierProjectId(projectId: string, certsUrl: string): string {
  if (projectId.startsWith('demo-') && isValidProjectId(projectId) && isLoopbackHost(new URL(certsUrl).hostname)) return projectId;
  return checkProjectId('projectId', projectId);
}

/** The options of the library's `firebaseVerifier()`. */
export interface FirebaseVerifierOptions {
  projectId: string;
  certsUrl?: string;
  skewSeconds?: number;
  fetchTimeoutMs?: number;
  cooldownMs?: number;
  /** How long a stale key set may serve while Google cannot be reached (seconds). */
  maxStaleSeconds?: number;
  /** Verified tokens kept in memory (about 3.5 KB each); 0 disables the cache. */
  cacheMaxEntries?: number;
  /** An Identity Platform tenant (FIREBASE_TENANT_ID): only its users' tokens pass. Unset: tokens of any tenant are refused. */
  tenantId?: string;
}

/** What the server's settings and the library's options both become. */
export interface FirebaseVerifierSettings {
  projectId: string;
  certsUrl: string;
  skewSeconds: number;
  fetchTimeoutMs: number;
  cooldownMs: number;
  maxStaleSeconds: number;
  cacheMaxEntries: number;
  tenantId?: string;
  /** FIREBASE_AUTH_EMULATOR_HOST (the server only): the Auth Emulator's unsigned ID tokens are accepted. */
  acceptUnsignedEmulatorTokens?: boolean;
}

/**
 * Validates the library's options with the server's rules and messages (each error names the
 * option): a real project ID (a demo- one only with a certsUrl on loopback, e.g. local mode's), https (plain http only on loopback), and the same bounds as
 * CLOCK_SKEW_SECONDS, CERTS_FETCH_TIMEOUT_MS, CERTS_REFETCH_COOLDOWN_MS, CERTS_MAX_STALE_SECONDS
 * and VERIFIED_TOKEN_CACHE_MAX_ENTRIES.
 */
export function verifierSettings(options: FirebaseVerifierOptions): FirebaseVerifierSettings {
  const b = VERIFIER_BOUNDS;
  const n = (name: string, value: number | undefined, bounds: { def: number; min: number; max: number }) =>
    checkInt(name, value ?? bounds.def, bounds.min, bounds.max);
  const certsUrl = checkUrl('certsUrl', options.certsUrl ?? DEFAULT_FIREBASE_CERTS_URL);
  return {
    projectId: checkVerifierProjectId(String(options.projectId), certsUrl),
    certsUrl,
    skewSeconds: n('skewSeconds', options.skewSeconds, b.clockSkewSeconds),
    fetchTimeoutMs: n('fetchTimeoutMs', options.fetchTimeoutMs, b.certsFetchTimeoutMs),
    cooldownMs: n('cooldownMs', options.cooldownMs, b.certsRefetchCooldownMs),
    maxStaleSeconds: n('maxStaleSeconds', options.maxStaleSeconds, b.certsMaxStaleSeconds),
    cacheMaxEntries: n('cacheMaxEntries', options.cacheMaxEntries, b.verifiedTokenCacheMaxEntries),
    ...(options.tenantId === undefined ? {} : { tenantId: checkTenantId('tenantId', String(options.tenantId)) }),
  };
}
