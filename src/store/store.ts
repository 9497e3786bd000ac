/**
 * Shared state of the bridge (replay cache, nonces, rate limits) behind one small interface:
 * in memory by default, Redis when REDIS_URL is set so several instances share it.
 * Every operation is atomic on its own; keys expire by themselves.
 */
export interface SharedStore {
  /** Stores `key` for `ttlMs` unless it exists. True when this call stored it (first use). */
  putIfAbsent(key: string, ttlMs: number): Promise<boolean>;
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
