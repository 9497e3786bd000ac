import type { Clock } from '../clock';
import type { SharedStore } from './store';
import { checkedTtlMs } from './ttl';

interface Entry {
  expiresAt: number;
  count: number;
}

/**
 * The embedded default: a Map with expiry, swept as it grows. Right for one instance; use Redis
 * (REDIS_URL) when several instances must share replay marks, nonces and rate limits.
 */
export class MemoryStore implements SharedStore {
  private readonly entries = new Map<string, Entry>();
  private sweepAt = 0;

  constructor(
    private readonly clock: Clock,
    /** Above this many keys, expired ones are swept before adding more. */
    private readonly sweepThreshold = 10_000,
  ) {}

  private live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(now: number): void {
    if (this.entries.size < this.sweepThreshold || now < this.sweepAt) return;
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    this.sweepAt = now + 1000;
  }

  async putIfAbsent(key: string, ttlMs: number): Promise<boolean> {
    ttlMs = checkedTtlMs(ttlMs);
    const now = this.clock();
    if (this.live(key, now)) return false;
    this.sweep(now);
    this.entries.set(key, { expiresAt: now + ttlMs, count: 1 });
    return true;
  }

  async take(key: string): Promise<boolean> {
    const present = this.live(key, this.clock()) !== undefined;
    this.entries.delete(key);
    return present;
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }> {
    windowMs = checkedTtlMs(windowMs);
    const now = this.clock();
    const entry = this.live(key, now);
    if (entry) {
      entry.count += 1;
      return { count: entry.count, resetMs: entry.expiresAt - now };
    }
    this.sweep(now);
    this.entries.set(key, { expiresAt: now + windowMs, count: 1 });
    return { count: 1, resetMs: windowMs };
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  /** Number of live and not-yet-swept keys (tests, metrics). */
  get size(): number {
    return this.entries.size;
  }
}
