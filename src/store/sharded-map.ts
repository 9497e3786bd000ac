/** Shards of a ShardedMap: a power of two. */
const SHARDS = 256;
/** Characters of a key's end that pick its shard. */
const HASHED_TAIL = 16;

/**
 * A Map split into 256 Maps by a hash of the key, for the memory store's up to millions of keys. V8 rehashes a
 * whole Map when it grows past its capacity or shrinks below a quarter of it: at a million entries that is one
 * 25 ms pause of the event loop in the middle of a request (BENCHMARKS.md: the memory store's expiry). A shard
 * holds a 256th of the keys, so its rehash is a 256th of the pause. Keys are the store's own (not secret), so the
 * hash only has to spread them: FNV-1a of their last 16 characters (if they all fell in one shard, it would only be
 * the unsharded Map again).
 */
export class ShardedMap<V> {
  private readonly shards: Array<Map<string, V>> = Array.from({ length: SHARDS }, () => new Map<string, V>());
  private count = 0;

  private shard(key: string): Map<string, V> {
    // The end of a key is what varies (a hash, a nonce, an address): its last 16 characters spread the keys.
    let hash = 0x811c9dc5;
    for (let i = Math.max(0, key.length - HASHED_TAIL); i < key.length; i += 1) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    return this.shards[(hash >>> 0) & (SHARDS - 1)] as Map<string, V>;
  }

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    return this.shard(key).get(key);
  }

  set(key: string, value: V): void {
    const shard = this.shard(key);
    const before = shard.size;
    shard.set(key, value);
    this.count += shard.size - before;
  }

  delete(key: string): boolean {
    const deleted = this.shard(key).delete(key);
    if (deleted) this.count -= 1;
    return deleted;
  }

  clear(): void {
    for (const shard of this.shards) shard.clear();
    this.count = 0;
  }
}
