import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { InvalidTokenError, KeysUnavailableError } from '../errors';
import type { Clock } from '../clock';
import type { KeySetSource } from './key-set-source';

export interface KeySetCacheOptions {
  source: KeySetSource;
  logger: Logger;
  clock: Clock;
  /** Least time between two fetch attempts caused by unknown kids or following a failure. */
  cooldownMs: number;
  /** How long the last good keys keep serving after they expire while refreshes fail. */
  maxStaleMs: number;
  /** Lifetime when the publisher sends no max-age. */
  defaultTtlMs?: number;
  /** Bounds on the announced lifetime (a max-age of 0 must not turn every request into a fetch). */
  minTtlMs?: number;
  maxTtlMs?: number;
}

interface CachedKeys {
  keys: ReadonlyMap<string, KeyObject>;
  freshUntil: number;
  /** When these keys were fetched (clock ms). */
  fetchedAt: number;
}

export interface KeySetCacheStats {
  /** Fetches started (a fetch under way counts, its outcome not yet). */
  fetches: number;
  failures: number;
  /** Fetches that brought a usable key set. */
  successes: number;
  keys: number;
  /** Past the announced lifetime (serving stale keys, or about to refresh on the next request). */
  stale: boolean;
  /** The last fetch failed: with `stale`, the keys in use are stale-if-error ones (or there are none). */
  failing: boolean;
  /** When the keys in use were fetched (clock ms); undefined before the first good fetch. */
  fetchedAt?: number;
}

/**
 * The kid cache, one instance per key set (Google's, Firebase's).
 * - keys are imported once and kept in memory for the announced max-age;
 * - one fetch at a time, shared by every waiting request (single flight);
 * - an unknown kid causes at most one refetch per cooldown, so a flood of random kids
 *   cannot stampede the publisher;
 * - a failed or garbage refresh keeps serving the last good keys for maxStaleMs (stale-if-error)
 *   and is logged; a failure also starts a cooldown before the next attempt;
 * - the source enforces the fetch timeout, so a request never waits on Google longer than that.
 */
export class KeySetCache {
  private current: CachedKeys | undefined;
  private inFlight: Promise<void> | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastAttemptFailed = false;
  private fetches = 0;
  private failures = 0;
  private successes = 0;
  private readonly defaultTtlMs: number;
  private readonly minTtlMs: number;
  private readonly maxTtlMs: number;

  constructor(private readonly options: KeySetCacheOptions) {
    this.defaultTtlMs = options.defaultTtlMs ?? 10 * 60_000;
    this.minTtlMs = options.minTtlMs ?? 30_000;
    this.maxTtlMs = options.maxTtlMs ?? 24 * 3_600_000;
  }

  /** The key for `kid`. Throws InvalidTokenError for a kid the publisher does not have, KeysUnavailableError when there are no usable keys. */
  async getKey(kid: string): Promise<KeyObject> {
    let cached = await this.usableKeys();
    const key = cached.keys.get(kid);
    if (key) return key;

    // Unknown kid: maybe the publisher rotated. Join a fetch under way, or start one if the
    // cooldown allows; otherwise answer from what we have.
    if (this.inFlight || this.options.clock() - this.lastAttemptAt >= this.options.cooldownMs) {
      await this.refresh();
      cached = this.current ?? cached;
      const refreshed = cached.keys.get(kid);
      if (refreshed) return refreshed;
    }
    throw new InvalidTokenError('token is signed with a key (kid) that is not in the published key set', 'ERR_KID_UNKNOWN');
  }

  /** Fetches the key set now unless fresh; used at start so the first request does not wait. */
  async warm(): Promise<void> {
    await this.usableKeys();
  }

  /** Whether any key is currently usable (fresh or within the stale bound). */
  hasUsableKeys(): boolean {
    const now = this.options.clock();
    return this.current !== undefined && now < this.current.freshUntil + this.options.maxStaleMs;
  }

  /**
   * Whether the current set is within its announced lifetime. When it is not, `warm()` refreshes
   * it exactly as `getKey` would (single flight, cooldown after a failure, stale-if-error).
   */
  isFresh(): boolean {
    return this.current !== undefined && this.options.clock() < this.current.freshUntil;
  }

  /** Whether a kid is in the current set (used to drop cached verifications when a key leaves). */
  hasKid(kid: string): boolean {
    return this.current?.keys.has(kid) ?? false;
  }

  stats(): KeySetCacheStats {
    return {
      fetches: this.fetches,
      failures: this.failures,
      successes: this.successes,
      keys: this.current?.keys.size ?? 0,
      stale: this.current !== undefined && this.options.clock() >= this.current.freshUntil,
      failing: this.lastAttemptFailed,
      ...(this.current !== undefined ? { fetchedAt: this.current.fetchedAt } : {}),
    };
  }

  private async usableKeys(): Promise<CachedKeys> {
    const now = this.options.clock();
    if (this.current && now < this.current.freshUntil) return this.current;
    // Expired or never fetched: refresh, unless a failure just happened (back off until the cooldown passes).
    if (this.inFlight || !this.lastAttemptFailed || now - this.lastAttemptAt >= this.options.cooldownMs) {
      await this.refresh();
    }
    const cached = this.current;
    if (cached && this.options.clock() < cached.freshUntil + this.options.maxStaleMs) return cached;
    throw new KeysUnavailableError(`verification keys are unavailable (${this.options.source.name})`);
  }

  /** Single flight: every caller during a fetch awaits the same promise. Never rejects. */
  private refresh(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.lastAttemptAt = this.options.clock();
    this.fetches += 1;
    this.inFlight = this.options.source
      .load()
      .then(
        ({ keys, maxAgeMs }) => {
          const ttl = Math.min(this.maxTtlMs, Math.max(this.minTtlMs, maxAgeMs ?? this.defaultTtlMs));
          const now = this.options.clock();
          this.current = { keys, freshUntil: now + ttl, fetchedAt: now };
          this.lastAttemptFailed = false;
          this.successes += 1;
          this.options.logger.debug({ source: this.options.source.name, keys: keys.size, ttlMs: ttl }, 'key set refreshed');
        },
        (err: unknown) => {
          this.failures += 1;
          this.lastAttemptFailed = true;
          this.options.logger.warn(
            {
              source: this.options.source.name,
              err: (err as Error)?.message ?? String(err),
              servingStale: this.current !== undefined && this.hasUsableKeys(),
            },
            'key set refresh failed',
          );
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}
