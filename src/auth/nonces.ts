import { createHash, randomBytes } from 'node:crypto';
import { DependencyUnavailableError, InvalidTokenError } from '../errors';
import type { SharedStore } from '../store/store';

function nonceKey(nonce: string): string {
  // Only the hash is stored: a dump of the store yields no usable nonce.
  return `nonce:${createHash('sha256').update(nonce).digest('base64url')}`;
}

/**
 * Server-issued nonces: single-use and short-lived. The app puts one into its Google sign-in
 * request; Google copies it into the ID token's `nonce` claim; the exchange consumes it.
 */
export class NonceService {
  constructor(
    private readonly store: SharedStore,
    readonly ttlSeconds: number,
  ) {}

  async issue(): Promise<{ nonce: string; expiresIn: number }> {
    const nonce = randomBytes(32).toString('base64url');
    try {
      await this.store.putIfAbsent(nonceKey(nonce), this.ttlSeconds * 1000);
    } catch (err) {
      throw new DependencyUnavailableError(`nonce store unavailable: ${(err as Error).message}`);
    }
    return { nonce, expiresIn: this.ttlSeconds };
  }

  /**
   * Gives a consumed nonce back after the exchange failed on our side, so the user can retry with
   * the same Google ID token. Its lifetime starts again (at most NONCE_TTL_SECONDS more).
   */
  async restore(nonce: string): Promise<void> {
    await this.store.putIfAbsent(nonceKey(nonce), this.ttlSeconds * 1000).catch(() => undefined);
  }

  /** Consumes the token's nonce; refuses a missing, unknown, used or expired one. */
  async consume(nonce: string | undefined): Promise<void> {
    if (nonce === undefined) {
      throw new InvalidTokenError('the Google ID token carries no nonce; request one from POST /v1/nonce', 'ERR_NONCE_MISSING');
    }
    let known: boolean;
    try {
      known = nonce.length <= 256 && (await this.store.take(nonceKey(nonce)));
    } catch (err) {
      throw new DependencyUnavailableError(`nonce store unavailable: ${(err as Error).message}`);
    }
    if (!known) {
      throw new InvalidTokenError('the token\'s nonce is unknown, already used or expired', 'ERR_NONCE_INVALID');
    }
  }
}
