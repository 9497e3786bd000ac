import { ShardedMap } from '../../src/store/sharded-map';

describe('ShardedMap (the memory store\'s keys, in 256 Maps)', () => {
  it('behaves as one Map: get, set (a new key or a replaced value), delete, size, clear', () => {
    const map = new ShardedMap<number>();
    const reference = new Map<string, number>();
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 20_000; i += 1) {
      const key = `k:${next() % 5000}`;
      if (next() % 3 === 0) expect(map.delete(key)).toBe(reference.delete(key));
      else {
        map.set(key, i);
        reference.set(key, i);
      }
      expect(map.size).toBe(reference.size);
    }
    for (const [key, value] of reference) expect(map.get(key)).toBe(value);
    expect(map.get('absent')).toBeUndefined();
    expect(map.delete('absent')).toBe(false);
    map.clear();
    expect(map.size).toBe(0);
    expect(map.get([...reference.keys()][0] as string)).toBeUndefined();
  });
});
