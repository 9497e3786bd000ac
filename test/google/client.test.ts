import type { IncomingMessage, ServerResponse } from 'node:http';
import { CircuitOpenError, GoogleApiError } from '../../src/errors';
import { CachedAccessToken } from '../../src/google/access-token';
import { GoogleApiClient } from '../../src/google/client';
import { manualClock } from '../../testkit/harness';
import { type LoopbackServer, listenOnLoopback } from '../../testkit/loopback-server';

/** The one authorized client of Google APIs: Bearer token, JSON, retries within one deadline, a circuit per API, counters. */
describe('GoogleApiClient', () => {
  let api: LoopbackServer;
  let answer: (req: IncomingMessage, res: ServerResponse) => void;
  const seen: Array<{ method?: string; url?: string; authorization?: string; body: string }> = [];
  beforeAll(async () => {
    api = await listenOnLoopback((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body: Buffer.concat(chunks).toString() });
        answer(req, res);
      });
    });
  });
  afterAll(() => api.close());
  beforeEach(() => {
    seen.length = 0;
  });

  const json = (status: number, body: unknown) => (_req: IncomingMessage, res: ServerResponse) =>
    void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const client = (tokens = { getAccessToken: async () => 'ya29.test', accountEmail: async () => undefined }, timeoutMs = 2000) =>
    new GoogleApiClient({ tokens, fetch: globalThis.fetch, clock: manualClock(), timeoutMs });

  it('sends the Bearer token and a JSON body, and answers the JSON object', async () => {
    answer = json(200, { users: [] });
    const body = await client().call('identitytoolkit', 'Identity Toolkit accounts:lookup', `${api.url}/v1/x`, { method: 'POST', body: { localId: ['u'] } });
    expect(body).toEqual({ users: [] });
    expect(seen).toEqual([{ method: 'POST', url: '/v1/x', authorization: 'Bearer ya29.test', body: '{"localId":["u"]}' }]);
  });

  it('retries a 503 twice (idempotent), never a call marked once; counts both', async () => {
    answer = json(503, { error: { code: 503, message: 'backend down' } });
    const c = client();
    await expect(c.call('iam', 'IAM keys.create', `${api.url}/keys`, { method: 'POST', repeat: 'once' })).rejects.toThrow(
      /^IAM keys.create: HTTP 503 \(backend down\)$/,
    );
    expect(seen).toHaveLength(1);
    seen.length = 0;
    await expect(c.call('identitytoolkit', 'lookup', `${api.url}/lookup`, { method: 'POST' })).rejects.toBeInstanceOf(GoogleApiError);
    expect(seen).toHaveLength(3);
    expect(c.stats()).toEqual([
      { api: 'iam', ok: 0, failed: 1, circuit: 'closed' },
      { api: 'identitytoolkit', ok: 0, failed: 1, circuit: 'closed' },
    ]);
  });

  it('a 4xx is the caller\'s error: not retried', async () => {
    answer = json(400, { error: { code: 400, message: 'INVALID_ID_TOKEN' } });
    await expect(client().call('identitytoolkit', 'lookup', `${api.url}/lookup`, { method: 'POST' })).rejects.toThrow(/HTTP 400 \(INVALID_ID_TOKEN\)/);
    expect(seen).toHaveLength(1);
  });

  it('five failed attempts open the API\'s circuit: the next call fails at once, without a request', async () => {
    answer = json(500, {});
    const c = client();
    await expect(c.call('signblob', 'signBlob', `${api.url}/sign`, { method: 'POST' })).rejects.toBeInstanceOf(GoogleApiError); // 3 attempts
    await expect(c.call('signblob', 'signBlob', `${api.url}/sign`, { method: 'POST' })).rejects.toBeDefined(); // 2 more open it
    const before = seen.length;
    await expect(c.call('signblob', 'signBlob', `${api.url}/sign`, { method: 'POST' })).rejects.toBeInstanceOf(CircuitOpenError);
    expect(seen.length).toBe(before);
    expect(c.stats()[0]).toMatchObject({ api: 'signblob', circuit: 'open' });
  });

  it('one deadline for the whole call: a token source that hangs costs one timeout, and the API is never called', async () => {
    answer = json(200, {});
    const hanging = new CachedAccessToken(manualClock(), () => new Promise(() => undefined));
    const tokens = { getAccessToken: () => hanging.get(), accountEmail: async () => undefined };
    const started = performance.now();
    await expect(client(tokens, 300).call('identitytoolkit', 'lookup', `${api.url}/lookup`, { method: 'POST' })).rejects.toThrow(
      /^lookup: timed out after 300 ms$/,
    );
    expect(performance.now() - started).toBeLessThan(600);
    expect(seen).toHaveLength(0);
  });
});

describe('CachedAccessToken', () => {
  it('shares one refresh among concurrent callers, refreshes five minutes before expiry, and follows the key', async () => {
    const clock = manualClock();
    let fetches = 0;
    let key = 'kid-1';
    const cache = new CachedAccessToken(
      clock,
      async () => {
        fetches += 1;
        return { token: `t${fetches}`, expiresInMs: 3_600_000 };
      },
      () => key,
    );
    expect(await Promise.all([cache.get(), cache.get(), cache.get()])).toEqual(['t1', 't1', 't1']);
    clock.advance(54 * 60_000);
    expect(await cache.get()).toBe('t1');
    clock.advance(2 * 60_000);
    expect(await cache.get()).toBe('t2');
    key = 'kid-2';
    expect(await cache.get()).toBe('t3');
    expect(fetches).toBe(3);
  });

  it('a failed refresh serves the old token while it is still valid, and fails once it is not', async () => {
    const clock = manualClock();
    let fail = false;
    const cache = new CachedAccessToken(clock, async () => {
      if (fail) throw new GoogleApiError('down');
      return { token: 'old', expiresInMs: 3_600_000 };
    });
    await cache.get();
    fail = true;
    clock.advance(58 * 60_000);
    expect(await cache.get()).toBe('old');
    clock.advance(2 * 60_000);
    await expect(cache.get()).rejects.toThrow('down');
  });
});
