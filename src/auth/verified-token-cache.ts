import type { Clock } from '../clock';
import { MAX_TOKEN_LIFETIME_SECONDS } from '../jwt/claims';
import type { KeySetCache } from '../jwt/key-set-cache';
import type { FirebaseTokenVerifier, FirebaseUser } from './firebase-token-verifier';

export interface VerifiedTokenCacheOptions {
  /** The real verifier; every token not (or no longer) in the cache goes through it. */
  inner: FirebaseTokenVerifier;
  /** The key set the inner verifier uses: an entry is served only while its kid is still in it. */
  keys: Pick<KeySetCache, 'hasKid' | 'isFresh' | 'warm'>;
  clock: Clock;
  /** The same leeway the inner verifier applies to exp (CLOCK_SKEW_SECONDS). */
  skewSeconds: number;
  /** Most entries held (VERIFIED_TOKEN_CACHE_MAX_ENTRIES); the least recently used goes first. 0 disables. */
  maxEntries: number;
  /**
   * 'second-use' (the default): a token is cached on its second successful verification, so
   * tokens used once (and floods of distinct valid tokens) never displace entries or churn memory.
   * 'first-use': cached at once.
   */
  admission?: 'first-use' | 'second-use';
}

interface Entry {
  user: FirebaseUser;
  kid: string;
  exp: number;
}

export interface VerifiedTokenCacheStats {
  entries: number;
  hits: number;
  misses: number;
}

/**
 * Heap budget of one entry with a typical Firebase ID token (~1.2 KB compact JWS, ~15 claims): the
 * token string (the key), the frozen claims, the entry and its Map slot. bench/cache-memory.ts
 * measures about 2,200 bytes; the budget leaves room for larger tokens. See BENCHMARKS.md.
 */
export const APPROX_BYTES_PER_ENTRY = 3_500;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

/** The `kid` of a token the inner verifier has already accepted (so its header is well-formed). */
function kidOf(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8')) as {
      kid?: unknown;
    };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A bounded cache of verified Firebase ID tokens, wrapping the real verifier. A client sends the
 * same ID token for up to an hour, so after the first request each later one costs a Map lookup
 * instead of an RSA verification and a JSON parse.
 *
 * What makes serving from it as strict as verifying again:
 * - the key is the whole token string: a token differing in any byte (another signature, a
 *   tampered payload, the same claims signed again) is a different entry and is fully verified;
 * - only successful verifications are stored; refusals are never cached;
 * - on every hit, `exp` is checked again against the injected clock with the same leeway as the
 *   verifier (`exp + skew <= now` is expired), so an entry never outlives its token; whatever exp
 *   an inner verifier reports, it is taken as at most MAX_TOKEN_LIFETIME_SECONDS plus twice the
 *   leeway from when the entry is stored (the latest exp of any token the verifier accepts);
 * - on every hit, the token's `kid` must still be in the key set; when the key set's lifetime has
 *   passed it is first refreshed exactly as the verifier would (single flight, stale-if-error,
 *   503 when no usable keys remain), so a key Google withdraws stops serving at the next refresh;
 * - per-request checks are not its business: the revocation check (CHECK_REVOKED) wraps this
 *   cache (RevocationCheckingVerifier in src/auth/revocation.ts), so it runs on hits too;
 * - the user handed out is deep-frozen, since several requests share it.
 *
 * Memory: at most `maxEntries` entries (least recently used evicted first), at most about
 * APPROX_BYTES_PER_ENTRY each (≈35 MB budget, ≈22 MB measured, for the default 10,000). Concurrent
 * first requests with the same token share one verification.
 */
/** Slots of the doorkeeper that remembers tokens verified once (4 bytes each: 256 KiB). */
const DOORKEEPER_SLOTS = 1 << 16;

/**
 * FNV-1a over `length` characters of the token ending `fromEnd` characters before its end: the
 * RS256 signature, effectively random. Two disjoint ranges give the slot and the fingerprint
 * independent bits, so an unrelated token matches a mark with odds of 1 in 2^32.
 */
function signatureHash(token: string, fromEnd: number, length: number): number {
  let hash = 0x811c9dc5;
  const end = Math.max(0, token.length - fromEnd);
  for (let i = Math.max(0, end - length); i < end; i += 1) {
    hash = Math.imul(hash ^ token.charCodeAt(i), 0x01000193);
  }
  return hash >>> 0;
}

export class VerifiedTokenCache implements FirebaseTokenVerifier {
  private readonly entries = new Map<string, Entry>();
  /** Hashes of tokens verified once and not cached yet (second-use admission). */
  private readonly seenOnce: Uint32Array | undefined;
  private readonly pending = new Map<string, Promise<FirebaseUser>>();
  private hits = 0;
  private misses = 0;

  constructor(private readonly options: VerifiedTokenCacheOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 0) {
      throw new RangeError('maxEntries must be a whole number ≥ 0');
    }
    this.seenOnce = options.admission === 'first-use' ? undefined : new Uint32Array(DOORKEEPER_SLOTS);
  }

  /**
   * Second-use admission: the first successful verification of a token only marks its hash; the
   * second caches it. A slot holds one hash, so under a flood of distinct tokens a mark may be
   * overwritten (the token is then admitted a use later): the doorkeeper's memory stays fixed.
   */
  private admit(token: string): boolean {
    if (!this.seenOnce) return true;
    const slot = signatureHash(token, 0, 16) & (DOORKEEPER_SLOTS - 1);
    const fingerprint = signatureHash(token, 16, 16) || 1;
    if (this.seenOnce[slot] === fingerprint) {
      this.seenOnce[slot] = 0;
      return true;
    }
    this.seenOnce[slot] = fingerprint;
    return false;
  }

  verify(token: string): Promise<FirebaseUser> {
    return this.verifyCached(token);
  }

  /**
   * The cached user for a token when that needs no I/O: an entry exists, the key set is fresh,
   * the kid is still in it and the token has not expired. Otherwise undefined (use verify()).
   */
  peek(token: string): FirebaseUser | undefined {
    const entry = this.options.maxEntries === 0 ? undefined : this.entries.get(token);
    if (entry === undefined || !this.options.keys.isFresh() || !this.servable(entry)) return undefined;
    this.touch(token, entry);
    return entry.user;
  }

  /** exp (with the verifier's leeway) still ahead, and the kid still published. */
  private servable(entry: Entry): boolean {
    const nowSeconds = Math.floor(this.options.clock() / 1000);
    return entry.exp + this.options.skewSeconds > nowSeconds && this.options.keys.hasKid(entry.kid);
  }

  /** Least recently used order: move to the end. */
  private touch(token: string, entry: Entry): void {
    this.hits += 1;
    this.entries.delete(token);
    this.entries.set(token, entry);
  }

  stats(): VerifiedTokenCacheStats {
    return { entries: this.entries.size, hits: this.hits, misses: this.misses };
  }

  private async verifyCached(token: string): Promise<FirebaseUser> {
    const { maxEntries } = this.options;
    if (maxEntries === 0) return this.options.inner.verify(token);
    const entry = this.entries.get(token);
    if (entry !== undefined) {
      const keys = this.options.keys;
      // Past the key set's lifetime: refresh it as the verifier would (throws when no usable keys).
      if (!keys.isFresh()) await keys.warm();
      if (this.servable(entry)) {
        this.touch(token, entry);
        return entry.user;
      }
      // Expired or its key left the set: verify again (which refuses it with the precise reason).
      this.entries.delete(token);
    }
    this.misses += 1;
    const inFlight = this.pending.get(token);
    if (inFlight) return inFlight;
    const verification = this.options.inner.verify(token).then((user) => {
      this.store(token, user);
      return user;
    });
    this.pending.set(token, verification);
    try {
      return await verification;
    } finally {
      this.pending.delete(token);
    }
  }

  private store(token: string, user: FirebaseUser): void {
    deepFreeze(user);
    if (!this.admit(token)) return;
    const kid = kidOf(token);
    if (kid === undefined || Number.isNaN(user.exp)) return;
    const latest = Math.floor(this.options.clock() / 1000) + MAX_TOKEN_LIFETIME_SECONDS + 2 * this.options.skewSeconds;
    this.entries.delete(token);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(token, { user, kid, exp: Math.min(user.exp, latest) });
  }
}
