import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { DependencyUnavailableError, InvalidTokenError } from '../errors';
import type { AccountDirectory, AccountState } from './account-directory';
import type { FirebaseTokenVerifier, FirebaseUser } from './firebase-token-verifier';

/**
 * Port: revocations announced by other instances (the admin revoke ran there). `announce` tells all of
 * them (this one too); listeners get the uid, or `undefined` when announcements may have been missed
 * (a reconnect): forget every user. While `listening()` is false, nothing cached can be trusted to be
 * current, so every check asks Identity Toolkit. Implemented over Redis pub/sub (src/store/).
 */
export interface RevocationAnnouncements {
  announce(uid: string): Promise<void>;
  onRevoked(listener: (uid: string | undefined) => void): void;
  listening(): boolean;
}

/** Lookups one check makes at most while invalidations keep detaching them. */
export const MAX_LOOKUP_ATTEMPTS = 3;

export interface RevocationCheckerOptions {
  client: Pick<AccountDirectory, 'lookup'>;
  clock: Clock;
  logger: Logger;
  /** How long one lookup answers for a user (REVOCATION_CACHE_SECONDS). */
  cacheSeconds: number;
  /** Most users whose state is cached at once. */
  maxEntries?: number;
  /** Several instances: revocations on the others reach this cache here. */
  announcements?: Pick<RevocationAnnouncements, 'onRevoked' | 'listening'>;
}

/**
 * CHECK_REVOKED: a verified Firebase ID token is refused when its user is disabled or deleted, or
 * its auth_time is before the user's validSince (sessions revoked). Each user's state is looked
 * up once per REVOCATION_CACHE_SECONDS, shared by concurrent requests. When Identity Toolkit
 * cannot answer, the request is refused with 503: a revocation check that is on is never skipped.
 */
export class RevocationChecker {
  private readonly cache = new Map<string, { state: AccountState; until: number }>();
  private readonly inFlight = new Map<string, Promise<AccountState>>();
  /** Bumped by invalidate(): a lookup that started before it must not cache or serve its answer. */
  private readonly generations = new Map<string, number>();
  /** Bumped by invalidateAll() (and when `generations` is pruned): every lookup under way is detached. */
  private allGeneration = 0;
  private readonly maxEntries: number;

  constructor(private readonly options: RevocationCheckerOptions) {
    this.maxEntries = options.maxEntries ?? 100_000;
    options.announcements?.onRevoked((uid) => (uid === undefined ? this.invalidateAll() : this.invalidate(uid)));
  }

  async check(user: FirebaseUser): Promise<void> {
    const state = await this.stateOf(user.uid);
    if (!state.exists) throw new InvalidTokenError('the user no longer exists', 'ERR_USER_NOT_FOUND');
    if (state.disabled) throw new InvalidTokenError('the user is disabled', 'ERR_USER_DISABLED');
    const authTime = user.claims.auth_time;
    if (state.validSince !== undefined && typeof authTime === 'number' && authTime < state.validSince) {
      throw new InvalidTokenError('the token has been revoked', 'ERR_TOKEN_REVOKED');
    }
  }

  /**
   * Forgets a user's cached state (after revoking their sessions here). A lookup already under
   * way may have read the state from before the revocation: it is detached, and its answer is
   * neither cached nor used by requests that arrive from now on.
   */
  invalidate(uid: string): void {
    this.cache.delete(uid);
    this.inFlight.delete(uid);
    this.generations.set(uid, (this.generations.get(uid) ?? 0) + 1);
    if (this.generations.size > this.maxEntries) {
      // Bounded: forget the counters, and detach every lookup under way instead (they ask again).
      this.generations.clear();
      this.allGeneration += 1;
    }
  }

  /** Forgets every cached state and detaches every lookup under way (announcements may have been missed). */
  invalidateAll(): void {
    this.cache.clear();
    this.inFlight.clear();
    this.allGeneration += 1;
  }

  private async stateOf(uid: string, attempt = 1): Promise<AccountState> {
    const now = this.options.clock();
    const cached = this.cache.get(uid);
    // Not hearing other instances' revocations: the cache could be stale, ask again.
    const trustCache = this.options.announcements?.listening() ?? true;
    if (cached && trustCache && now < cached.until) return cached.state;
    const generation = this.generations.get(uid) ?? 0;
    const allGeneration = this.allGeneration;
    let pending = this.inFlight.get(uid);
    if (!pending) {
      const lookup: Promise<AccountState> = this.options.client.lookup(uid).finally(() => {
        if (this.inFlight.get(uid) === lookup) this.inFlight.delete(uid);
      });
      pending = lookup;
      this.inFlight.set(uid, pending);
    }
    let state: AccountState;
    try {
      state = await pending;
    } catch (err) {
      this.options.logger.error({ uid, err: (err as Error).message }, 'revocation lookup failed');
      throw new DependencyUnavailableError('revocation check unavailable');
    }
    // Invalidated while this lookup ran: its answer may predate the revocation. Ask again, a bounded number of
    // times (announcements arriving without pause must not hold a request in a loop): then 503, never the old answer.
    if ((this.generations.get(uid) ?? 0) !== generation || this.allGeneration !== allGeneration) {
      if (attempt >= MAX_LOOKUP_ATTEMPTS) {
        this.options.logger.warn({ uid, attempts: attempt }, 'revocation state changed during every lookup');
        throw new DependencyUnavailableError('revocation check unavailable');
      }
      return this.stateOf(uid, attempt + 1);
    }
    if (this.options.cacheSeconds > 0) {
      if (this.cache.size >= this.maxEntries) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
      this.cache.delete(uid);
      this.cache.set(uid, { state, until: this.options.clock() + this.options.cacheSeconds * 1000 });
    }
    return state;
  }
}

/** A verifier that runs the revocation check after the inner one (including any cache of verified tokens). */
export class RevocationCheckingVerifier implements FirebaseTokenVerifier {
  constructor(
    private readonly inner: FirebaseTokenVerifier,
    private readonly checker: RevocationChecker,
  ) {}

  async verify(token: string): Promise<FirebaseUser> {
    const user = await this.inner.verify(token);
    await this.checker.check(user);
    return user;
  }
}
