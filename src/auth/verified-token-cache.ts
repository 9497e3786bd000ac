import type { Clock } from '../clock';
import { MAX_TOKEN_LIFETIME_SECONDS } from '../jwt/claims';
import { MAX_TOKEN_LENGTH } from '../jwt/decode';
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
  /** Most entries held (VERIFIED_TOKEN_CACHE_MAX_ENTRIES); eviction approximates least recently used (clock). 0 disables. */
  maxEntries: number;
  /**
   * 'second-use' (the default): a token is cached on its second successful verification, so
   * tokens used once (and floods of distinct valid tokens) never displace entries or churn memory.
   * 'first-use': cached at once.
   */
  admission?: 'first-use' | 'second-use';
}

interface Entry {
  /** The whole token this entry was verified for: a hit requires the presented token to equal it. */
  token: string;
  user: FirebaseUser;
  kid: string;
  exp: number;
  /** Set by every hit, cleared by the clock hand passing: a second chance before eviction. */
  referenced: boolean;
  /** Index in the clock ring. */
  slot: number;
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

/**
 * Freezes a value and everything it holds. Arrays are walked by index and primitives skipped without a call: a
 * token with large custom claims (a list of 320 roles) froze in 7.6 µs through Object.values, 5.0 µs so
 * (BENCHMARKS.md, token size).
 */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const child: unknown = value[i];
      if (typeof child === 'object' && child !== null) deepFreeze(child);
    }
    return value;
  }
  for (const name of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[name];
    if (typeof child === 'object' && child !== null) deepFreeze(child);
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
 * Where a token's entry is looked up: its signature segment (342 characters for RS256-2048,
 * whatever the token's size), so the lookup's hashing does not grow with the claims. It is only
 * an index: a hit also requires the presented token to equal the entry's whole token (a string
 * comparison, far cheaper per byte than the SHA-256 any verification pays over the same bytes).
 * A token reusing a cached token's signature on other header or payload bytes finds that entry,
 * differs from its token, and is verified in full (and refused: the signature covers them).
 */
function lookupKey(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1);
}

/**
 * A bounded cache of verified Firebase ID tokens, wrapping the real verifier. A client sends the
 * same ID token for up to an hour, so after the first request each later one costs a Map lookup
 * instead of an RSA verification and a JSON parse.
 *
 * What makes serving from it as strict as verifying again:
 * - a hit is the whole token string: entries are found by the signature segment (see lookupKey)
 *   and served only to a token equal to the verified one, so a token differing in any byte
 *   (another signature, a tampered payload, the same claims signed again) is fully verified;
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
 * Memory: at most `maxEntries` entries, at most about
 * APPROX_BYTES_PER_ENTRY each (≈35 MB budget, ≈22 MB measured, for the default 10,000). Concurrent
 * first requests with the same token share one verification.
 *
 * Eviction is the clock algorithm (second chance), an approximation of least recently used: a hit
 * only sets its entry's `referenced` bit, so it never writes to the Map (a delete and re-insert
 * per hit grew slow as the Map filled); at capacity the hand passes over the ring, clearing bits,
 * and evicts the first entry not referenced since the hand last passed it.
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
  /** Entries by lookupKey (the signature segment). */
  private readonly entries = new Map<string, Entry>();
  /** The clock: every entry in a slot; freed slots are reused first. */
  private readonly ring: Array<Entry | undefined> = [];
  private readonly freeSlots: number[] = [];
  private hand = 0;
  /** Hashes of tokens verified once and not cached yet (second-use admission). */
  private readonly seenOnce: Uint32Array | undefined;
  /** Verifications in progress by lookupKey, each for its token. */
  private readonly pending = new Map<string, { token: string; verification: Promise<FirebaseUser> }>();
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

  /** The entry for exactly this token, if cached (whatever its state). */
  private lookup(key: string, token: string): Entry | undefined {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.token === token ? entry : undefined;
  }

  /**
   * The cached user for a token when that needs no I/O: an entry exists, the key set is fresh,
   * the kid is still in it and the token has not expired. Otherwise undefined (use verify()).
   */
  peek(token: string): FirebaseUser | undefined {
    if (this.options.maxEntries === 0 || typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined;
    const entry = this.lookup(lookupKey(token), token);
    if (entry === undefined || !this.options.keys.isFresh() || !this.servable(entry)) return undefined;
    this.hit(entry);
    return entry.user;
  }

  /** exp (with the verifier's leeway) still ahead, and the kid still published. */
  private servable(entry: Entry): boolean {
    const nowSeconds = Math.floor(this.options.clock() / 1000);
    return entry.exp + this.options.skewSeconds > nowSeconds && this.options.keys.hasKid(entry.kid);
  }

  /** A hit writes only the entry's own bit: the Map is never touched. */
  private hit(entry: Entry): void {
    this.hits += 1;
    entry.referenced = true;
  }

  stats(): VerifiedTokenCacheStats {
    return { entries: this.entries.size, hits: this.hits, misses: this.misses };
  }

  private async verifyCached(token: string): Promise<FirebaseUser> {
    const { maxEntries } = this.options;
    if (maxEntries === 0 || typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return this.options.inner.verify(token);
    const key = lookupKey(token);
    const entry = this.lookup(key, token);
    if (entry !== undefined) {
      const keys = this.options.keys;
      // Past the key set's lifetime: refresh it as the verifier would (throws when no usable keys).
      if (!keys.isFresh()) await keys.warm();
      if (this.servable(entry)) {
        this.hit(entry);
        return entry.user;
      }
      // Expired or its key left the set: verify again (which refuses it with the precise reason).
      this.remove(entry);
    }
    this.misses += 1;
    const inFlight = this.pending.get(key);
    if (inFlight !== undefined && inFlight.token === token) return inFlight.verification;
    const verification = this.options.inner.verify(token).then((user) => {
      this.store(key, token, user);
      return user;
    });
    // Another token with the same signature segment in flight (a forgery): not shared, not displaced.
    if (inFlight !== undefined) return verification;
    this.pending.set(key, { token, verification });
    try {
      return await verification;
    } finally {
      this.pending.delete(key);
    }
  }

  /** Drops an entry, if it is still held: it may have been evicted (its slot reused) while its caller awaited. */
  private remove(entry: Entry): void {
    const key = lookupKey(entry.token);
    if (this.entries.get(key) === entry) this.entries.delete(key);
    if (this.ring[entry.slot] === entry) {
      this.ring[entry.slot] = undefined;
      this.freeSlots.push(entry.slot);
    }
  }

  /**
   * A slot for a new entry: a freed one, a new one below the cap, or the clock's victim: the hand
   * clears referenced bits until it meets an entry not referenced since its last pass (at most one
   * full turn, when every entry was hit since).
   */
  private slotForNew(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    if (this.ring.length < this.options.maxEntries) return this.ring.length;
    for (;;) {
      const slot = this.hand;
      this.hand = (this.hand + 1) % this.ring.length;
      const entry = this.ring[slot];
      if (entry === undefined) return slot;
      if (entry.referenced) {
        entry.referenced = false;
        continue;
      }
      this.entries.delete(lookupKey(entry.token));
      return slot;
    }
  }

  private store(key: string, token: string, user: FirebaseUser): void {
    deepFreeze(user);
    if (!this.admit(token)) return;
    const kid = kidOf(token);
    if (kid === undefined || Number.isNaN(user.exp)) return;
    const latest = Math.floor(this.options.clock() / 1000) + MAX_TOKEN_LIFETIME_SECONDS + 2 * this.options.skewSeconds;
    const previous = this.entries.get(key);
    if (previous !== undefined) this.remove(previous);
    const slot = this.slotForNew();
    const entry: Entry = { token, user, kid, exp: Math.min(user.exp, latest), referenced: false, slot };
    this.ring[slot] = entry;
    this.entries.set(key, entry);
  }
}
