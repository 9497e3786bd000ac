import type { Clock } from '../clock';
import { DependencyUnavailableError } from '../errors';
import type { ClaimResult, SharedStore } from './store';
import { ShardedMap } from './sharded-map';
import { checkedTtlMs } from './ttl';

/** An entry of the store; its place in its expiry heap moves with it. */
interface Entry {
  key: string;
  expiresAt: number;
  index: number;
}

/** A single-use entry: a replay mark, a nonce, a value (device challenges) or a guarding count. */
interface Held extends Entry {
  /** Set for values (setValue, getOrPutValue) and counts (increment, as its decimal string). */
  value?: string;
}

/** A rate-limit counter. */
interface Counter extends Entry {
  count: number;
}

/** Expired entries removed per write at most, besides what a full store frees: bounded work per request. */
const SWEEP_PER_CALL = 16;

export const DEFAULT_MEMORY_STORE_MAX_ENTRIES = 100_000;

export interface MemoryStoreOptions {
  /** MEMORY_STORE_MAX_ENTRIES: most keys held, single-use and counters together. */
  maxEntries?: number;
}

/** Entries per segment of the heap's storage: 2^12. */
const SEGMENT_BITS = 12;
const SEGMENT = 1 << SEGMENT_BITS;

/**
 * A binary min-heap of entries by expiry, each entry knowing its index so it can be removed when taken: the
 * soonest to expire is always at the top, so expired entries are found without a scan (and without iterating a
 * Map from its front, which is slow once many entries were deleted there). Its storage is a list of fixed
 * segments, not one array: V8 copies a whole array when it grows or shrinks past its capacity (measured: writes of
 * 4 to 12 ms as a million marks drain); a segment is added or dropped in constant time.
 */
class ExpiryHeap<T extends Entry> {
  private readonly segments: T[][] = [];
  private length = 0;

  get size(): number {
    return this.length;
  }

  private at(i: number): T {
    return (this.segments[i >> SEGMENT_BITS] as T[])[i & (SEGMENT - 1)] as T;
  }

  private put(i: number, entry: T): void {
    (this.segments[i >> SEGMENT_BITS] as T[])[i & (SEGMENT - 1)] = entry;
    entry.index = i;
  }

  peek(): T | undefined {
    return this.length === 0 ? undefined : this.at(0);
  }

  clear(): void {
    this.segments.length = 0;
    this.length = 0;
  }

  push(entry: T): void {
    const i = this.length;
    if ((i & (SEGMENT - 1)) === 0 && this.segments.length === i >> SEGMENT_BITS) this.segments.push(new Array<T>(SEGMENT));
    this.put(i, entry);
    this.length = i + 1;
    this.up(i);
  }

  remove(entry: T): void {
    const lastIndex = this.length - 1;
    const last = this.at(lastIndex);
    (this.segments[lastIndex >> SEGMENT_BITS] as T[])[lastIndex & (SEGMENT - 1)] = undefined as unknown as T;
    this.length = lastIndex;
    // An empty last segment goes (one segment of slack kept, so a push and a remove at the edge do not churn).
    if ((lastIndex & (SEGMENT - 1)) === 0 && this.segments.length > (lastIndex >> SEGMENT_BITS) + 1) this.segments.pop();
    if (last === entry) return;
    const i = entry.index;
    this.put(i, last);
    this.down(i);
    this.up(last.index);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const child = this.at(i);
      const above = this.at(parent);
      if (above.expiresAt <= child.expiresAt) return;
      this.put(parent, child);
      this.put(i, above);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < this.length && this.at(left).expiresAt < this.at(least).expiresAt) least = left;
      if (right < this.length && this.at(right).expiresAt < this.at(least).expiresAt) least = right;
      if (least === i) return;
      const a = this.at(i);
      const b = this.at(least);
      this.put(i, b);
      this.put(least, a);
      i = least;
    }
  }
}

/**
 * The embedded default: keys with expiry, right for one instance; use Redis (REDIS_URL) when several
 * instances must share replay marks, nonces and rate limits.
 *
 * Bounded: at most `maxEntries` keys (MEMORY_STORE_MAX_ENTRIES). What may go when it is full:
 * - expired entries, always (each write also removes up to SWEEP_PER_CALL of them: bounded work, no scan);
 * - rate-limit counters (`hit`), the one whose window ends first: forgetting one only resets a count; limits
 *   protect capacity, not correctness;
 * - never single-use state (`putIfAbsent`, `claim`: replay marks and nonces; `setValue`, `getOrPutValue`,
 *   `increment`: device challenges, their secret, their attempt counts) before it expires. A dropped
 *   replay mark would let its token exchange again; a dropped nonce would refuse a sign-in in progress
 *   with a 401 that blames the user. When the store is full of live single-use state, new single-use state
 *   (and new counters) is refused with 503 (DependencyUnavailableError): the client retries, nothing is
 *   forgotten early.
 */
export class MemoryStore implements SharedStore {
  readonly backend = 'memory' as const;
  /** Single-use entries (replay marks, nonces) by key, and the same entries ordered by expiry. */
  private readonly held = new ShardedMap<Held>();
  private readonly heldExpiries = new ExpiryHeap<Held>();
  /** Rate-limit counters by key, and ordered by expiry (all windows are alike, so the oldest is first). */
  private readonly counters = new ShardedMap<Counter>();
  private readonly counterExpiries = new ExpiryHeap<Counter>();
  private readonly maxEntries: number;
  /** The epoch of the replay marks: this store (so this process) started with none. */
  readonly epochMs: number;
  /** Entries refused because the store was full: firebridge_store_errors_total. */
  private errors = 0;

  constructor(
    private readonly clock: Clock,
    options: MemoryStoreOptions = {},
  ) {
    this.maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_MEMORY_STORE_MAX_ENTRIES);
    this.epochMs = clock();
  }

  private liveHeld(key: string, now: number): Held | undefined {
    const entry = this.held.get(key);
    if (entry && entry.expiresAt <= now) {
      this.dropHeld(entry);
      return undefined;
    }
    return entry;
  }

  private dropHeld(entry: Held): void {
    this.held.delete(entry.key);
    this.heldExpiries.remove(entry);
  }

  private dropCounter(entry: Counter): void {
    this.counters.delete(entry.key);
    this.counterExpiries.remove(entry);
  }

  /** Removes the single-use entry that expires first, if it has expired. O(log n). */
  private dropOneExpiredHeld(now: number): boolean {
    const first = this.heldExpiries.peek();
    if (first === undefined || first.expiresAt > now) return false;
    this.dropHeld(first);
    return true;
  }

  /** Removes the counter that expires first, if it has expired. O(log n). */
  private dropOneExpiredCounter(now: number): boolean {
    const first = this.counterExpiries.peek();
    if (first === undefined || first.expiresAt > now) return false;
    this.dropCounter(first);
    return true;
  }

  /**
   * Before adding a key: a bounded sweep of expired entries, then room for the new key if the store is still
   * full (an expired entry, else the oldest counter), or 503 when only live single-use state is left.
   */
  private makeRoom(now: number, ttlMs: number): void {
    // A non-finite TTL could never expire (and NaN would break the heap's order): refused, as Redis does.
    if (!Number.isFinite(ttlMs)) throw new RangeError(`a TTL must be a finite number of milliseconds, got ${ttlMs}`);
    for (let i = 0; i < SWEEP_PER_CALL; i++) {
      if (!this.dropOneExpiredHeld(now) && !this.dropOneExpiredCounter(now)) break;
    }
    if (this.size < this.maxEntries) return;
    if (this.dropOneExpiredHeld(now) || this.dropOneExpiredCounter(now)) return;
    // The heap's top is live, so no single-use entry has expired: evict the counter that would end first.
    const oldestCounter = this.counterExpiries.peek();
    if (oldestCounter !== undefined) {
      this.dropCounter(oldestCounter);
      return;
    }
    this.errors += 1;
    throw new DependencyUnavailableError(
      `the memory store is full of unexpired replay marks and nonces (MEMORY_STORE_MAX_ENTRIES=${this.maxEntries})`,
    );
  }

  async putIfAbsent(key: string, ttlMs: number): Promise<boolean> {
    ttlMs = checkedTtlMs(ttlMs);
    const now = this.clock();
    if (this.liveHeld(key, now)) return false;
    this.addHeld(key, now, ttlMs);
    return true;
  }

  /** Stores a new single-use entry (after makeRoom, which may refuse with 503). */
  private addHeld(key: string, now: number, ttlMs: number, value?: string): Held {
    this.makeRoom(now, ttlMs);
    const entry: Held = { key, expiresAt: now + ttlMs, index: -1, value };
    this.held.set(key, entry);
    this.heldExpiries.push(entry);
    return entry;
  }

  async setValue(key: string, value: string, ttlMs: number): Promise<string | undefined> {
    ttlMs = checkedTtlMs(ttlMs);
    const now = this.clock();
    const previous = this.liveHeld(key, now);
    if (previous) this.dropHeld(previous);
    this.addHeld(key, now, ttlMs, value);
    return previous?.value;
  }

  async getValue(key: string): Promise<string | undefined> {
    return this.liveHeld(key, this.clock())?.value;
  }

  async getOrPutValue(key: string, value: string, ttlMs: number): Promise<string> {
    ttlMs = checkedTtlMs(ttlMs);
    const now = this.clock();
    const existing = this.liveHeld(key, now);
    if (existing?.value !== undefined) {
      // Renewed: its place in the heap moves with its expiry.
      this.dropHeld(existing);
      this.addHeld(key, now, ttlMs, existing.value);
      return existing.value;
    }
    if (existing) this.dropHeld(existing);
    return this.addHeld(key, now, ttlMs, value).value as string;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    ttlMs = checkedTtlMs(ttlMs);
    const now = this.clock();
    const existing = this.liveHeld(key, now);
    if (existing) {
      const count = Number(existing.value ?? '1') + 1;
      existing.value = String(count);
      return count;
    }
    this.addHeld(key, now, ttlMs, '1');
    return 1;
  }

  async claim(key: string, ttlMs: number, sinceMs: number): Promise<ClaimResult> {
    if (sinceMs < this.epochMs) return 'before-epoch';
    return (await this.putIfAbsent(key, ttlMs)) ? 'claimed' : 'exists';
  }

  async take(key: string): Promise<boolean> {
    const entry = this.liveHeld(key, this.clock());
    if (entry !== undefined) {
      this.dropHeld(entry);
      return true;
    }
    // A counter's key too (as Redis's DEL): a success clears a count of failures.
    const counter = this.counters.get(key);
    if (counter === undefined || counter.expiresAt <= this.clock()) return false;
    this.dropCounter(counter);
    return true;
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }> {
    windowMs = checkedTtlMs(windowMs);
    const now = this.clock();
    const entry = this.counters.get(key);
    if (entry && entry.expiresAt > now) {
      entry.count += 1;
      return { count: entry.count, resetMs: entry.expiresAt - now };
    }
    if (entry) this.dropCounter(entry);
    this.makeRoom(now, windowMs);
    const counter: Counter = { key, expiresAt: now + windowMs, count: 1, index: -1 };
    this.counters.set(key, counter);
    this.counterExpiries.push(counter);
    return { count: 1, resetMs: windowMs };
  }

  errorCount(): number {
    return this.errors;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.held.clear();
    this.counters.clear();
    this.heldExpiries.clear();
    this.counterExpiries.clear();
  }

  /** Number of keys held, live and not yet swept (tests, metrics). */
  get size(): number {
    return this.held.size + this.counters.size;
  }
}
