import type { AuditStatus } from '../audit/audit-trail';
import type { VerifiedTokenCacheStats } from '../auth/verified-token-cache';
import type { Clock } from '../clock';
import type { GoogleApiStats } from '../google/client';
import type { KeySetCacheStats } from '../jwt/key-set-cache';
import type { OutcomeCount } from '../outcomes';

/** Counts of one operation by outcome and reason (an OutcomeCounts). */
export interface CountedOutcomes {
  entries(): OutcomeCount[];
}

/**
 * What the metrics read at scrape time: the components' own counters and stats, never anything
 * done per request. Absent parts (a feature that is off) have no samples.
 */
export interface MetricSources {
  clock: Clock;
  /** TokenExchange.outcomes. */
  exchanges?: CountedOutcomes;
  /** Per token kind: the Google verifier's and the server's outermost Firebase verifier's outcomes. */
  verifications: { google?: CountedOutcomes; firebase?: CountedOutcomes };
  /** The kid caches, by the `set` label (`google`, `firebase`). */
  keySets: ReadonlyArray<{ set: string; stats(): KeySetCacheStats }>;
  verifiedTokenCache?: { stats(): VerifiedTokenCacheStats };
  /** The signing key in use, with when it was installed (ISO 8601); undefined in keyless and local mode. */
  signingKey?: () => { kid: string; addedAt: string } | undefined;
  /** Key-file mode: KEYS_DIR changes the watcher swapped in or rejected. */
  keyringReloads?: { readonly reloaded: number; readonly rejected: number };
  /** Every authorized Google API client of the server (the bridge's, keyless signing's). */
  googleApis: ReadonlyArray<{ stats(): GoogleApiStats[] }>;
  store?: { errorCount?(): number };
  fcmSends?: CountedOutcomes;
  deviceChallenges?: CountedOutcomes;
  deviceVerifications?: CountedOutcomes;
  vaultRefreshes?: CountedOutcomes;
  /** The audit trail's writer: writable, queued and dropped events. */
  audit?: { status(): AuditStatus };
}
