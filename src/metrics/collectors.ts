import { Counter, Gauge, type Registry } from 'prom-client';
import type { CountedOutcomes, MetricSources } from './sources';

/** A counter whose values are read from `counts` at scrape time (outcome, reason, and fixed extra labels). */
function outcomeCounter(
  registry: Registry,
  name: string,
  help: string,
  sources: () => ReadonlyArray<{ labels: Record<string, string>; counts: CountedOutcomes | undefined }>,
  extraLabels: string[] = [],
): void {
  new Counter({
    name,
    help,
    labelNames: [...extraLabels, 'outcome', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, counts } of sources()) {
        for (const { outcome, reason, count } of counts?.entries() ?? []) this.inc({ ...labels, outcome, reason }, count);
      }
    },
  });
}

/** Every firebridge metric but the request-duration histogram: each reads its component when scraped. */
export function registerCollectors(registry: Registry, sources: MetricSources): void {
  const { clock } = sources;
  const single = (counts: CountedOutcomes | undefined) => () => [{ labels: {}, counts }];

  outcomeCounter(registry, 'firebridge_exchanges_total', 'Google ID token exchanges (POST /v1/token/google) by outcome and error code', single(sources.exchanges));
  outcomeCounter(
    registry,
    'firebridge_verifications_total',
    'ID token verifications by token kind (firebase: protected routes and forward-auth, cache hits included; google: exchanges), outcome and error code',
    () => [
      { labels: { token: 'firebase' }, counts: sources.verifications.firebase },
      { labels: { token: 'google' }, counts: sources.verifications.google },
    ],
    ['token'],
  );
  outcomeCounter(registry, 'firebridge_fcm_sends_total', 'Pushes sent (device codes, the push relay) by outcome and reason (FCM\'s, or the error code)', single(sources.fcmSends));
  outcomeCounter(registry, 'firebridge_device_challenges_total', 'Device sign-in challenges (POST /v1/device/challenge) by outcome and error code', single(sources.deviceChallenges));
  outcomeCounter(registry, 'firebridge_device_verifications_total', 'Device sign-in code checks (POST /v1/device/verify) by outcome and error code', single(sources.deviceVerifications));
  outcomeCounter(registry, 'firebridge_vault_refreshes_total', 'Access-token refreshes at Google from the vault by outcome and error code', single(sources.vaultRefreshes));

  new Counter({
    name: 'firebridge_key_set_fetches_total',
    help: 'Fetches of a published key set (google: Google ID tokens, firebase: Firebase ID tokens) by outcome',
    labelNames: ['set', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const keySet of sources.keySets) {
        const stats = keySet.stats();
        this.inc({ set: keySet.set, outcome: 'success' }, stats.successes);
        this.inc({ set: keySet.set, outcome: 'failure' }, stats.failures);
      }
    },
  });
  new Gauge({
    name: 'firebridge_key_set_age_seconds',
    help: 'Time since the key set in use was fetched (no sample before the first good fetch)',
    labelNames: ['set'],
    registers: [registry],
    collect() {
      this.reset();
      for (const keySet of sources.keySets) {
        const { fetchedAt } = keySet.stats();
        if (fetchedAt !== undefined) this.set({ set: keySet.set }, Math.max(0, (clock() - fetchedAt) / 1000));
      }
    },
  });
  new Gauge({
    name: 'firebridge_key_set_stale',
    help: '1 while the last fetch of the key set failed and its keys are past their announced lifetime (stale-if-error keys in use) or there are none',
    labelNames: ['set'],
    registers: [registry],
    collect() {
      this.reset();
      for (const keySet of sources.keySets) {
        const stats = keySet.stats();
        this.set({ set: keySet.set }, stats.failing && (stats.stale || stats.keys === 0) ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'firebridge_key_set_keys',
    help: 'Keys in the key set in use',
    labelNames: ['set'],
    registers: [registry],
    collect() {
      this.reset();
      for (const keySet of sources.keySets) this.set({ set: keySet.set }, keySet.stats().keys);
    },
  });

  const cache = sources.verifiedTokenCache;
  new Counter({
    name: 'firebridge_verified_token_cache_hits_total',
    help: 'Firebase ID tokens answered from the cache of verified tokens',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(cache?.stats().hits ?? 0);
    },
  });
  new Counter({
    name: 'firebridge_verified_token_cache_misses_total',
    help: 'Firebase ID tokens the cache of verified tokens sent to full verification',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(cache?.stats().misses ?? 0);
    },
  });
  new Gauge({
    name: 'firebridge_verified_token_cache_entries',
    help: 'Verified Firebase ID tokens held (VERIFIED_TOKEN_CACHE_MAX_ENTRIES bounds it)',
    registers: [registry],
    collect() {
      this.set(cache?.stats().entries ?? 0);
    },
  });

  new Gauge({
    name: 'firebridge_signing_key_age_seconds',
    help: 'Time since the signing key in use was installed in KEYS_DIR (keyring.json addedAt, else the file mtime); Google recommends rotating every 90 days',
    labelNames: ['kid'],
    registers: [registry],
    collect() {
      this.reset();
      const key = sources.signingKey?.();
      const addedAt = key === undefined ? Number.NaN : Date.parse(key.addedAt);
      if (key !== undefined && !Number.isNaN(addedAt)) this.set({ kid: key.kid }, Math.max(0, (clock() - addedAt) / 1000));
    },
  });

  new Counter({
    name: 'firebridge_keyring_reloads_total',
    help: 'Changes of KEYS_DIR (watch, poll, SIGHUP) by outcome: reloaded (swapped in) or rejected (the last good keyring keeps signing)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      const reloads = sources.keyringReloads;
      if (reloads === undefined) return;
      this.inc({ outcome: 'reloaded' }, reloads.reloaded);
      this.inc({ outcome: 'rejected' }, reloads.rejected);
    },
  });

  const googleApiStats = () => {
    // Several clients may call the same API (keyless signing's and the bridge's): summed, one circuit open is open.
    const byApi = new Map<string, { ok: number; failed: number; open: boolean }>();
    for (const client of sources.googleApis) {
      for (const s of client.stats()) {
        const entry = byApi.get(s.api) ?? { ok: 0, failed: 0, open: false };
        entry.ok += s.ok;
        entry.failed += s.failed;
        entry.open ||= s.circuit === 'open';
        byApi.set(s.api, entry);
      }
    }
    return byApi;
  };
  new Counter({
    name: 'firebridge_google_api_calls_total',
    help: 'Calls of Google APIs (identitytoolkit, iamcredentials-signblob) by outcome, retries within one call counted once',
    labelNames: ['api', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [api, s] of googleApiStats()) {
        this.inc({ api, outcome: 'success' }, s.ok);
        this.inc({ api, outcome: 'failure' }, s.failed);
      }
    },
  });
  new Gauge({
    name: 'firebridge_circuit_open',
    help: '1 while the circuit breaker of a Google API is open (calls fail at once until a trial call succeeds)',
    labelNames: ['api'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [api, s] of googleApiStats()) this.set({ api }, s.open ? 1 : 0);
    },
  });
  new Counter({
    name: 'firebridge_store_errors_total',
    help: 'Failed operations of the shared store (Redis: commands and pings that failed; memory: entries refused because it was full)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.store?.errorCount?.() ?? 0);
    },
  });
  // The audit trail: a full disk or a removed folder is an alert, never a crash (README: Audit trail).
  new Gauge({
    name: 'firebridge_audit_writable',
    help: '1 while the audit log can be written; 0 while its last write failed (full disk, removed folder, read-only file system)',
    registers: [registry],
    collect() {
      this.reset();
      const status = sources.audit?.status();
      if (status) this.set(status.writable ? 1 : 0);
    },
  });
  new Gauge({
    name: 'firebridge_audit_pending_events',
    help: 'Audit events queued in memory, not yet written',
    registers: [registry],
    collect() {
      this.reset();
      const status = sources.audit?.status();
      if (status) this.set(status.pending);
    },
  });
  new Counter({
    name: 'firebridge_audit_dropped_events_total',
    help: 'Audit events dropped because the queue was full while the log could not be written',
    registers: [registry],
    collect() {
      this.reset();
      const status = sources.audit?.status();
      if (status) this.inc(status.dropped);
    },
  });
}
