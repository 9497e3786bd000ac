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
  /** Deletes `key`; true when it existed. Atomic: of two concurrent takes, one wins. */
  take(key: string): Promise<boolean>;
  /**
   * Counts a hit in the fixed window that `key` names (created on first hit, lasting windowMs).
   * Returns the count including this hit and the milliseconds until the window resets.
   */
  hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }>;
  /** For readiness and tests: whether the backend answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
