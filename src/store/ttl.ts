/**
 * Longest TTL a shared store accepts: a day. Replay marks live about an hour (a token's lifetime),
 * nonces at most NONCE_TTL_SECONDS, rate-limit windows a minute.
 */
export const MAX_STORE_TTL_MS = 86_400_000;

/**
 * A TTL in whole milliseconds, 1 to MAX_STORE_TTL_MS. Anything else (NaN, Infinity, negative, a
 * century) is a bug of the caller: refused with a RangeError (the caller's 503), never stored as a
 * key that would never expire.
 */
export function checkedTtlMs(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > MAX_STORE_TTL_MS) {
    throw new RangeError(`a store TTL must be more than 0 and at most ${MAX_STORE_TTL_MS} ms, got ${ttlMs}`);
  }
  return Math.ceil(ttlMs);
}
