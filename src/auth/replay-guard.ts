import { createHash } from 'node:crypto';
import type { Clock } from '../clock';
import { DependencyUnavailableError, InvalidTokenError } from '../errors';
import { MAX_TOKEN_LIFETIME_SECONDS } from '../jwt/claims';
import type { ClaimResult, SharedStore } from '../store/store';

function replayKey(token: string): string {
  return `replay:${createHash('sha256').update(token).digest('base64url')}`;
}

/**
 * Each Google ID token exchanges once: the first exchange marks the token's hash in the shared
 * store until the token expires; a second exchange is refused. When the store cannot answer,
 * the exchange is refused with 503: replay protection is never silently skipped.
 *
 * The marks have an epoch (see SharedStore.claim): a store that lost its marks (a restart with the memory
 * store, a Redis restart or flush) starts a new one, and a token issued before it (less the clock-skew leeway,
 * so a sign-in right after a start works) is refused, since it may have been exchanged before. The epoch is
 * checked on every exchange, in the same atomic step as the mark.
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

  async claim(token: string, expSeconds: number, iatSeconds: number): Promise<void> {
    const ttlMs = this.ttlMs(expSeconds);
    let result: ClaimResult;
    try {
      result = await this.store.claim(replayKey(token), ttlMs, (iatSeconds + this.skewSeconds) * 1000);
    } catch (err) {
      throw new DependencyUnavailableError(`replay cache unavailable: ${(err as Error).message}`);
    }
    if (result === 'before-epoch') {
      throw new InvalidTokenError(
        'this Google ID token was issued before the bridge\'s replay protection last restarted; sign in again for a new one',
        'ERR_TOKEN_BEFORE_EPOCH',
      );
    }
    if (result === 'exists') {
      throw new InvalidTokenError('this Google ID token was already exchanged; sign in again for a new one', 'ERR_TOKEN_REPLAYED');
    }
  }

  /** Undoes a claim when the exchange failed on our side, so the user can retry with the same token. */
  async release(token: string): Promise<void> {
    await this.store.take(replayKey(token)).catch(() => undefined);
  }
}
