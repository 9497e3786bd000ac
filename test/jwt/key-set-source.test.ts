import type { IncomingMessage, ServerResponse } from 'node:http';
import { KeySetCache } from '../../src/jwt/key-set-cache';
import { KeySetFetchError, KeySetFormatError } from '../../src/errors';
import { HttpKeySetSource, parseMaxAgeMs } from '../../src/jwt/key-set-source';
import { createLogger } from '../../src/logger';
import { LogCapture, manualClock } from '../../testkit/harness';
import { type TestKey, generateTestKey, publicJwk } from '../../testkit/keys';
import { listen } from '../../testkit/key-set-helpers';

describe('parseMaxAgeMs', () => {
  it.each<[string | null, string | null, number | undefined]>([
    ['public, max-age=21600, must-revalidate, no-transform', null, 21_600_000],
    ['max-age=600', '540', 60_000],
    ['max-age=600', '600', 0],
    ['max-age=600', '9999', 0],
    ['max-age="120"', null, 120_000],
    ['Max-Age=5', ' 2 ', 3_000],
    ['max-age=600', 'garbage', 600_000],
    ['no-cache', null, 0],
    ['no-store, max-age=600', null, 0],
    ['public, s-maxage=600', null, undefined],
    ['public', null, undefined],
    [null, '10', undefined],
  ])('Cache-Control %j with Age %j → %j ms', (cacheControl, age, expected) => {
    expect(parseMaxAgeMs(cacheControl, age)).toBe(expected);
  });
});

/** A tiny key-set publisher whose headers and behaviour each test sets. */
describe('HttpKeySetSource under KeySetCache (lifetime from Cache-Control and Age)', () => {
  let key: TestKey;
  let hits = 0;
  let headers: Record<string, string> = {};
  let mode: 'ok' | 'hang' = 'ok';
  let server: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    key = generateTestKey();
    server = await listen((_req: IncomingMessage, res: ServerResponse) => {
      hits += 1;
      if (mode === 'hang') return;
      res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ keys: [publicJwk(key)] }));
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    hits = 0;
    headers = {};
    mode = 'ok';
  });

  function cacheOver(timeoutMs = 2_000) {
    const clock = manualClock(1_700_000_000_000);
    const logs = new LogCapture();
    const source = new HttpKeySetSource(`${server.url}/certs`, { fetch: globalThis.fetch, timeoutMs });
    const cache = new KeySetCache({ source, logger: createLogger('debug', logs), clock, cooldownMs: 10_000, maxStaleMs: 3_600_000 });
    return { cache, clock, source, logs };
  }

  it('loads the JWKS and reports max-age less Age', async () => {
    headers = { 'cache-control': 'public, max-age=600', age: '540' };
    const { source } = cacheOver();
    const loaded = await source.load();
    expect([...loaded.keys.keys()]).toEqual([key.kid]);
    expect(loaded.maxAgeMs).toBe(60_000);
  });

  it('the cache keeps the keys for max-age less Age (one fetch until then, exactly one more after)', async () => {
    headers = { 'cache-control': 'public, max-age=600', age: '540' };
    const { cache, clock } = cacheOver();
    for (let i = 0; i < 10; i++) await cache.getKey(key.kid);
    clock.advance(59_999);
    await cache.getKey(key.kid);
    expect(hits).toBe(1);
    clock.advance(1);
    await cache.getKey(key.kid);
    await cache.getKey(key.kid);
    expect(hits).toBe(2);
  });

  it('without Cache-Control the default lifetime (10 min) applies', async () => {
    const { cache, clock } = cacheOver();
    await cache.getKey(key.kid);
    clock.advance(10 * 60_000 - 1);
    await cache.getKey(key.kid);
    expect(hits).toBe(1);
    clock.advance(1);
    await cache.getKey(key.kid);
    expect(hits).toBe(2);
  });

  it('an Age at or past max-age does not turn every call into a fetch (minTtl clamp)', async () => {
    headers = { 'cache-control': 'max-age=60', age: '120' };
    const { cache, clock } = cacheOver();
    for (let i = 0; i < 20; i++) {
      await cache.getKey(key.kid);
      clock.advance(1_000);
    }
    expect(hits).toBe(1);
  });

  it('a hanging publisher is abandoned after the timeout', async () => {
    mode = 'hang';
    const { source } = cacheOver(200);
    const started = Date.now();
    await expect(source.load()).rejects.toBeInstanceOf(KeySetFetchError);
    await expect(source.load()).rejects.toThrow(/timed out after 200 ms/);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('garbage and non-2xx answers are rejected', async () => {
    const bad = await listen((req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/garbage') res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [ {"kty"');
      else if (req.url === '/empty') res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": []}');
      else res.writeHead(503).end('backend error');
    });
    try {
      const at = (p: string) => new HttpKeySetSource(`${bad.url}${p}`, { fetch: globalThis.fetch, timeoutMs: 1_000 });
      await expect(at('/garbage').load()).rejects.toBeInstanceOf(KeySetFormatError);
      await expect(at('/empty').load()).rejects.toBeInstanceOf(KeySetFormatError);
      await expect(at('/fail').load()).rejects.toThrow(/HTTP 503/);
    } finally {
      await bad.close();
    }
  });
});

describe('HttpKeySetSource: the timeout holds even against a fetch that ignores its signal', () => {
  it('rejects after timeoutMs with a fetch that never settles', async () => {
    const neverSettles = (() => new Promise<Response>(() => undefined)) as unknown as typeof fetch;
    const source = new HttpKeySetSource('http://127.0.0.1:9/certs', { fetch: neverSettles, timeoutMs: 150 });
    const started = Date.now();
    await expect(source.load()).rejects.toThrow(/timed out after 150 ms/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('HttpKeySetSource follows no redirect', () => {
  it("a key-set URL answering 302 to another origin is a fetch failure; that origin's keys are never fetched", async () => {
    const attackerKey = generateTestKey();
    let attackerHits = 0;
    const attacker = await listen((_req: IncomingMessage, res: ServerResponse) => {
      attackerHits += 1;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' }).end(JSON.stringify({ keys: [publicJwk(attackerKey)] }));
    });
    const redirecting = await listen((_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(302, { location: `${attacker.url}/certs` }).end();
    });
    try {
      const source = new HttpKeySetSource(`${redirecting.url}/certs`, { fetch: globalThis.fetch, timeoutMs: 2000 });
      await expect(source.load()).rejects.toBeInstanceOf(KeySetFetchError);
      expect(attackerHits).toBe(0);
    } finally {
      await Promise.all([attacker.close(), redirecting.close()]);
    }
  });
});
