import { createHash } from 'node:crypto';
import type { Clock } from '../clock';
import { DependencyUnavailableError, InvalidTokenError } from '../errors';
import { MAX_TOKEN_LIFETIME_SECONDS } from '../jwt/claims';
import type { SharedStore } from '../store/store';

function replayKey(token: string): string {
  return `replay:${createHash('sha256').update(token).digest('base64url')}`;
}

/**
 * Each Google ID token exchanges once: the first exchange marks the token's hash in the shared
 * store until the token expires; a second exchange is refused. When the store cannot answer,
 * the exchange is refused with 503: replay protection is never silently skipped.
 */
export class ReplayGuard {
  constructor(
    private readonly store: SharedStore,
    private readonly clock: Clock,
    private readonly skewSeconds: number,
  ) {}

  /**
   * How long the mark of a token expiring at `expSeconds` is kept: until exp + leeway, at least a
   * second, and never longer than any token the verifier accepts can live (its exp is at most
   * now + MAX_TOKEN_LIFETIME_SECONDS + 2 * leeway). A non-finite or absurd exp gets that longest
   * TTL, so no such number ever reaches the store.
   */
  ttlMs(expSeconds: number): number {
    const longest = (MAX_TOKEN_LIFETIME_SECONDS + 3 * this.skewSeconds) * 1000;
    const untilExpiry = (expSeconds + this.skewSeconds) * 1000 - this.clock();
    if (!Number.isFinite(untilExpiry) || untilExpiry > longest) return longest;
    return Math.max(1000, Math.ceil(untilExpiry));
  }

  async claim(token: string, expSeconds: number): Promise<void> {
    const ttlMs = this.ttlMs(expSeconds);
    let first: boolean;
    try {
      first = await this.store.putIfAbsent(replayKey(token), ttlMs);
    } catch (err) {
      throw new DependencyUnavailableError(`replay cache unavailable: ${(err as Error).message}`);
    }
    if (!first) {
      throw new InvalidTokenError('this Google ID token was already exchanged; sign in again for a new one', 'ERR_TOKEN_REPLAYED');
    }
  }

  /** Undoes a claim when the exchange failed on our side, so the user can retry with the same token. */
  async release(token: string): Promise<void> {
    await this.store.take(replayKey(token)).catch(() => undefined);
  }
}
