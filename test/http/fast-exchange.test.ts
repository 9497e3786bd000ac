import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { type TestBridge, bridgeFor } from '../../testkit/harness';
import { type LaneAnswer, twoLanes, useTwoLanes } from '../../testkit/fast-lane';

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

function payloadOf(customToken: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(customToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** An exchange's answer with what differs between two exchanges of the same user (the time) taken out. */
function timeless(answer: LaneAnswer): unknown {
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  if (typeof body.customToken !== 'string') return answer;
  const { iat: _iat, exp: _exp, ...payload } = payloadOf(body.customToken);
  const header = JSON.parse(Buffer.from(body.customToken.split('.')[0] ?? '', 'base64url').toString('utf8')) as unknown;
  return { status: answer.status, headers: { ...answer.headers, 'content-length': undefined, 'ratelimit-remaining': undefined }, body: { ...body, customToken: { header, payload } } };
}

async function auditEvents(bridge: TestBridge): Promise<Array<Record<string, unknown>>> {
  expect(await bridge.deps.audit.flush()).toBe(true);
  return readFileSync(bridge.config.audit.file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((event) => event.event === 'token.exchange');
}

/**
 * POST /v1/token/google on node:http in front of express (src/http/fast-exchange.ts): the same answers as the
 * app's route, every refusal of a body included, one replay guard and one rate limit for both, the same audit
 * events and request log line; what it does not take (CORS with an Origin, another method, a query) reaches the app.
 */
describe('the fast exchange', () => {
  const fixture = useTwoLanes({ RATE_LIMIT_EXCHANGE_PER_MINUTE: '1000' });

  it('a Google ID token in, a custom token out: the app\'s answer (the same user, uid, claims, headers)', async () => {
    const [a, b] = [await fixture.fake.googleIdToken(), await fixture.fake.googleIdToken()];
    const fast = await fixture.lanes.send('fast', '/v1/token/google', json({ idToken: a }));
    const app = await fixture.lanes.send('app', '/v1/token/google', json({ idToken: b }));
    expect(fast.status).toBe(200);
    expect(JSON.parse(fast.body)).toMatchObject({ uid: 'google:110169484474386276334', expiresIn: 3600 });
    expect(timeless(fast)).toEqual(timeless(app));
    expect(fast.headers['cache-control']).toBe('no-store');
    // One budget: the fast lane's exchange counted, then the app's.
    expect([fast.headers['ratelimit-remaining'], app.headers['ratelimit-remaining']]).toEqual(['999', '998']);
    expect(fixture.lanes.taken).toEqual({ fast: 1, app: 0 });
  });

  it('one replay guard for both: a token spent on one is refused on the other, with the same answer', async () => {
    const token = await fixture.fake.googleIdToken();
    expect((await fixture.lanes.send('fast', '/v1/token/google', json({ idToken: token }))).status).toBe(200);
    const { fast, app } = await fixture.lanes.both('/v1/token/google', json({ idToken: token }));
    expect(fast.status).toBe(401);
    expect({ ...fast, headers: { ...fast.headers, 'ratelimit-remaining': undefined } }).toEqual({ ...app, headers: { ...app.headers, 'ratelimit-remaining': undefined } });
    expect(JSON.parse(fast.body)).toMatchObject({ error: 'invalid_token' });
    const other = await fixture.fake.googleIdToken();
    expect((await fixture.lanes.send('app', '/v1/token/google', json({ idToken: other }))).status).toBe(200);
    expect((await fixture.lanes.send('fast', '/v1/token/google', json({ idToken: other }))).status).toBe(401);
  });

  it.each<[string, () => RequestInit, number]>([
    ['no body and no Content-Type', () => ({ method: 'POST' }), 400],
    ['an empty JSON body', () => json(''), 400],
    ['an empty object', () => json({}), 400],
    ['malformed JSON', () => json('{"idToken": "abc"'), 400],
    ['a JSON string (strict)', () => json('"a.b.c"'), 400],
    ['a JSON array', () => json([{ idToken: 'a.b.c' }]), 400],
    ['a number idToken', () => json({ idToken: 42 }), 400],
    ['a serverAuthCode without linking configured', () => json({ idToken: 'a.b.c', serverAuthCode: 'code' }), 400],
    ['a body over MAX_BODY_BYTES', () => json({ idToken: 'x'.repeat(17 * 1024) }), 413],
    ['text/plain', () => ({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"idToken":"a.b.c"}' }), 400],
    ['a charset that is not UTF', () => json({ idToken: 'a.b.c' }, { 'content-type': 'application/json; charset=latin1' }), 415],
    ['a gzip body (inflated, as express does)', () => ({ ...json(''), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync('{"idToken":"junk"}') }), 401],
    ['an unknown Content-Encoding', () => ({ ...json('{}'), headers: { 'content-type': 'application/json', 'content-encoding': 'zz' } }), 415],
    ['a junk token', () => json({ idToken: 'junk' }), 401],
    ['a BOM before the JSON', () => json('\ufeff{"idToken":"junk"}'), 401],
    ['JSON whitespace before the object', () => json(' \r\n\t{"idToken":"junk"}'), 401],
    ['whitespace only', () => json(' \n '), 400],
    ['charset="UTF-8", no space', () => json({ idToken: 'junk' }, { 'content-type': 'application/json;charset="UTF-8"' }), 401],
    ['a look-alike type', () => json({ idToken: 'junk' }, { 'content-type': 'application/jsonx' }), 400],
    ['a +json type', () => json({ idToken: 'junk' }, { 'content-type': 'application/vnd.api+json' }), 400],
    ['bytes that are not UTF-8', () => ({ ...json(''), body: Buffer.concat([Buffer.from('{"idToken":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]) }), 401],
    ['a body just under MAX_BODY_BYTES (several chunks)', () => json({ idToken: 'x'.repeat(16 * 1024 - 20) }), 401],
    ['a body one byte over MAX_BODY_BYTES', () => json({ idToken: 'x'.repeat(16 * 1024 - 13) }), 413],
  ])('%s: the app\'s refusal, by the fast lane', async (_name, init, status) => {
    const { fast, app } = await fixture.lanes.both('/v1/token/google', init);
    expect(fast.status).toBe(status);
    const withoutCount = (a: LaneAnswer) => ({ ...a, headers: { ...a.headers, 'ratelimit-remaining': undefined, 'ratelimit-reset': undefined } });
    expect(withoutCount(fast)).toEqual(withoutCount(app));
    expect(fixture.lanes.taken).toEqual({ fast: 1, app: 0 });
  });

  it('the audit events and the request log line are the app\'s', async () => {
    const before = (await auditEvents(fixture.bridge)).length;
    const logsBefore = fixture.bridge.logs.lines.length;
    await fixture.lanes.send('fast', '/v1/token/google', json({ idToken: await fixture.fake.googleIdToken() }, { 'x-request-id': 'fx-1' }));
    await fixture.lanes.send('app', '/v1/token/google', json({ idToken: await fixture.fake.googleIdToken() }, { 'x-request-id': 'fx-2' }));
    await fixture.lanes.send('fast', '/v1/token/google', json({ idToken: 'junk' }, { 'x-request-id': 'fx-3' }));
    await fixture.lanes.send('app', '/v1/token/google', json({ idToken: 'junk' }, { 'x-request-id': 'fx-4' }));
    const events = (await auditEvents(fixture.bridge)).slice(before).map(({ seq: _s, time: _t, prev: _p, hash: _h, ...rest }) => rest);
    expect(events).toHaveLength(4);
    expect(events[0]).toEqual(events[1]);
    expect(events[2]).toEqual(events[3]);
    expect(events[0]).toMatchObject({ outcome: 'ok', uid: 'google:110169484474386276334', ip: expect.stringMatching(/127\.0\.0\.1/) });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const lines = fixture.bridge.logs.lines.slice(logsBefore).map((l) => JSON.parse(l) as Record<string, unknown>);
    const byId = (id: string) => {
      const { ms: _ms, time: _time, reqId: _reqId, ...rest } = lines.find((l) => l.reqId === id && l.msg === 'request') ?? {};
      return rest;
    };
    expect(byId('fx-1')).toMatchObject({ method: 'POST', path: '/v1/token/google', status: 200 });
    expect(byId('fx-1')).toEqual(byId('fx-2'));
    expect(byId('fx-3')).toEqual(byId('fx-4'));
    const refused = (id: string) => lines.filter((l) => l.reqId === id && l.msg !== 'request').map(({ time: _t, reqId: _r, ...rest }) => rest);
    expect(refused('fx-3')).toEqual(refused('fx-4'));
  });

  it('one rate limit for both lanes: the same 429, Retry-After and RateLimit-* headers', async () => {
    const limited = bridgeFor(fixture.fake, { env: { RATE_LIMIT_EXCHANGE_PER_MINUTE: '2' } });
    const two = await twoLanes(limited);
    try {
      const junk = () => json({ idToken: 'junk' });
      expect((await two.send('fast', '/v1/token/google', junk())).status).toBe(401);
      expect((await two.send('app', '/v1/token/google', junk())).status).toBe(401);
      const { fast, app } = await two.both('/v1/token/google', junk);
      expect(fast.status).toBe(429);
      expect(fast.headers['retry-after']).toMatch(/^\d+$/);
      expect(fast.headers['ratelimit-remaining']).toBe('0');
      expect({ ...fast, headers: { ...fast.headers, 'retry-after': undefined, 'ratelimit-reset': undefined } }).toEqual({ ...app, headers: { ...app.headers, 'retry-after': undefined, 'ratelimit-reset': undefined } });
      expect(two.taken.fast).toBe(2);
    } finally {
      await two.close();
    }
  });

  it('TRUST_PROXY: the forwarded client\'s address, as req.ip reads it, for the limit and the audit trail', async () => {
    const proxied = bridgeFor(fixture.fake, { env: { RATE_LIMIT_EXCHANGE_PER_MINUTE: '1', TRUST_PROXY: 'loopback' } });
    const two = await twoLanes(proxied);
    try {
      const from = (ip: string) => json({ idToken: 'junk' }, { 'x-forwarded-for': ip });
      expect((await two.send('fast', '/v1/token/google', from('203.0.113.1'))).status).toBe(401);
      expect((await two.send('fast', '/v1/token/google', from('203.0.113.2'))).status).toBe(401);
      // A spoofed hop before the trusted proxy does not give a new budget; the same client on the app is limited too.
      expect((await two.send('fast', '/v1/token/google', from('198.51.100.9, 203.0.113.1'))).status).toBe(429);
      expect((await two.send('app', '/v1/token/google', from('203.0.113.2'))).status).toBe(429);
      const ips = (await auditEvents(proxied)).map((e) => e.ip);
      expect(ips).toEqual(['203.0.113.1', '203.0.113.2']);
    } finally {
      await two.close();
    }
  });

  it('leaves to the app: another method, a query string, and with CORS on a request with an Origin', async () => {
    expect((await fixture.lanes.send('fast', '/v1/token/google', { method: 'GET' })).status).toBe(405);
    expect((await fixture.lanes.send('fast', '/v1/token/google?x=1', json({ idToken: 'junk' }))).status).toBe(401);
    expect(fixture.lanes.taken).toEqual({ fast: 0, app: 2 });
    const cors = bridgeFor(fixture.fake, { env: { CORS_ORIGINS: 'https://app.example.com' } });
    const two = await twoLanes(cors);
    try {
      const origin = json({ idToken: 'junk' }, { origin: 'https://app.example.com' });
      const withOrigin = await two.send('fast', '/v1/token/google', origin);
      expect(withOrigin.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(two.taken).toEqual({ fast: 0, app: 1 });
      const { fast, app } = await two.both('/v1/token/google', () => json({ idToken: 'junk' }));
      expect(fast.headers.vary).toBe('Origin');
      expect({ ...fast, headers: { ...fast.headers, 'ratelimit-remaining': undefined } }).toEqual({ ...app, headers: { ...app.headers, 'ratelimit-remaining': undefined } });
      expect(two.taken).toEqual({ fast: 1, app: 1 });
    } finally {
      await two.close();
    }
  });
});
