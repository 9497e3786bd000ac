/** What `claim` did: stored the mark, found it already there, or refused a key older than the epoch. */
export type ClaimResult = 'claimed' | 'exists' | 'before-epoch';

/**
 * Shared state of the bridge (replay cache, nonces, rate limits) behind one small interface:
 * in memory by default, Redis when REDIS_URL is set so several instances share it.
 * Every operation is atomic on its own; keys expire by themselves.
 */
export interface SharedStore {
  /** Which backend this is, for /readyz. */
  readonly backend: 'memory' | 'redis';
  /** Stores `key` for `ttlMs` unless it exists. True when this call stored it (first use). */
  putIfAbsent(key: string, ttlMs: number): Promise<boolean>;
  /**
   * A replay mark: stores `key` for `ttlMs` unless it exists (as putIfAbsent), in one atomic step with a check of
   * the store's epoch, the time since which it has lost nothing (the process start for memory; for Redis a
   * sentinel key, so a restart or flush of Redis starts a new epoch). `sinceMs` is when the thing the key stands
   * for came to be (for a token: its iat, plus the clock-skew leeway). When that is before the epoch, it may have
   * been marked before the store lost its state: nothing is stored and the answer is 'before-epoch'.
   */
  claim(key: string, ttlMs: number, sinceMs: number): Promise<ClaimResult>;
  /** Deletes `key` (a mark, a value or a count); true when it existed. Atomic: of two concurrent takes, one wins. */
  take(key: string): Promise<boolean>;
  /**
   * Counts a hit in the fixed window that `key` names (created on first hit, lasting windowMs).
   * Returns the count including this hit and the milliseconds until the window resets.
   */
  hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }>;
  /**
   * Small values (device sign-in challenges and their secret). Kept as single-use state: the memory store never
   * evicts one before it expires. Keys of values are never used with putIfAbsent/claim/hit.
   * `setValue` stores `value` for `ttlMs` (replacing any value) and returns the value it replaced, in one atomic step.
   */
  setValue(key: string, value: string, ttlMs: number): Promise<string | undefined>;
  /** The value stored at `key`, or undefined when there is none (or it expired). */
  getValue(key: string): Promise<string | undefined>;
  /**
   * Stores `value` unless `key` holds one, and returns the value held now (the stored one, or this one): of
   * concurrent calls, every caller gets the same value. Renews the key's TTL to `ttlMs` (so a value in use stays).
   */
  getOrPutValue(key: string, value: string, ttlMs: number): Promise<string>;
  /**
   * Adds one to the count at `key` (created at 1 for `ttlMs` on the first call; later calls keep its expiry) and
   * returns the count. Unlike `hit` (a rate limit), never evicted before it expires: counts that guard a secret.
   */
  increment(key: string, ttlMs: number): Promise<number>;
  /** For readiness and tests: whether the backend answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
  /**
   * Operations that failed so far (Redis: commands that timed out, lost the connection or were refused, and
   * failed pings; memory: entries refused because it was full), for firebridge_store_errors_total. Optional
   * for stores written elsewhere (tests).
   */
  errorCount?(): number;
}
