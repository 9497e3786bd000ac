import { type Socket, createServer } from 'node:net';
import { MemoryStore } from '../../src/store/memory-store';
import { RedisStore } from '../../src/store/redis-store';
import { manualClock } from '../../testkit/harness';

describe('the shared store counts its failures (firebridge_store_errors_total)', () => {
  it('memory: each entry refused because the store is full of live single-use entries', async () => {
    const store = new MemoryStore(manualClock(), { maxEntries: 100 });
    for (let i = 0; i < 100; i += 1) await store.putIfAbsent(`nonce:${i}`, 60_000);
    expect(store.errorCount()).toBe(0);
    await expect(store.putIfAbsent('nonce:100', 60_000)).rejects.toThrow(/full/);
    await expect(store.putIfAbsent('nonce:101', 60_000)).rejects.toThrow(/full/);
    expect(store.errorCount()).toBe(2);
  });

  it('Redis: every command that fails, and a failed ping, while nothing answers', async () => {
    // A port that accepts connections and never answers: each command times out.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const store = new RedisStore(`redis://127.0.0.1:${port}`, 'test:', { commandTimeoutMs: 100 });
    try {
      await expect(store.take('a')).rejects.toThrow();
      await expect(store.getValue('b')).rejects.toThrow();
      expect(await store.ping()).toBe(false);
      // The epoch read at construction failed too (it is a command like the others).
      expect(store.errorCount()).toBeGreaterThanOrEqual(3);
      const before = store.errorCount();
      await expect(store.hit('c', 1000)).rejects.toThrow();
      expect(store.errorCount()).toBe(before + 1);
    } finally {
      await store.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
