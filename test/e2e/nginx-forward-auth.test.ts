import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { FakeGoogle } from '../../testkit/fake-google';
import { type TestBridge, bridgeFor } from '../../testkit/harness';
import { type LoopbackServer, listenOnLoopback } from '../../testkit/loopback-server';
import { type RunningNginx, freeLoopbackPort, nginxBinary, startNginx } from '../../testkit/nginx';

const EXAMPLE = path.resolve(__dirname, '../../examples/nginx');
const NGINX = nginxBinary();
if (NGINX === undefined) {
  console.log('skipped: nginx forward-auth tests (nginx is not installed; .ci/run installs it with apt-get install -y nginx)');
}

/** Replaces exactly one occurrence: if the example changes shape, the test says so instead of testing something else. */
function replaceOnce(text: string, from: string, to: string): string {
  const count = text.split(from).length - 1;
  if (count !== 1) throw new Error(`examples/nginx/firebridge.conf: expected "${from}" once, found it ${count} times`);
  return text.replace(from, to);
}

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

(NGINX ? describe : describe.skip)('forward-auth behind a real nginx (examples/nginx/firebridge.conf)', () => {
  let fake: FakeGoogle;
  let bridge: TestBridge;
  let bridgeServer: Server;
  let upstream: LoopbackServer;
  let nginx: RunningNginx;
  const seen: Seen[] = [];

  beforeAll(async () => {
    fake = await FakeGoogle.start();
    bridge = bridgeFor(fake, { env: { AUTHZ_COOKIE_NAME: '__session' } });
    bridgeServer = bridge.app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => bridgeServer.once('listening', () => resolve()));
    const bridgePort = (bridgeServer.address() as AddressInfo).port;
    // A tiny upstream that echoes what reached it.
    upstream = await listenOnLoopback((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      req.resume();
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
    });
    const port = await freeLoopbackPort();
    let site = readFileSync(path.join(EXAMPLE, 'firebridge.conf'), 'utf8');
    site = replaceOnce(site, 'server 127.0.0.1:8080;', `server 127.0.0.1:${bridgePort};`);
    site = replaceOnce(site, 'server 127.0.0.1:3000;', `server ${new URL(upstream.url).host};`);
    site = replaceOnce(site, 'listen 80;', `listen 127.0.0.1:${port};`);
    nginx = await startNginx({ site, port, copy: { snippets: path.join(EXAMPLE, 'snippets') } });
  });

  afterAll(async () => {
    await nginx?.stop();
    await upstream?.close();
    if (bridgeServer?.listening) await new Promise<void>((resolve) => bridgeServer.close(() => resolve()));
    await fake?.close();
  });

  beforeEach(() => {
    seen.length = 0;
  });

  async function get(urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: string }> {
    const res = await fetch(`${nginx.url}${urlPath}`, { headers, redirect: 'manual' });
    return { status: res.status, headers: res.headers, body: await res.text() };
  }

  it('a valid token reaches the upstream with the X-Auth-* headers from firebridge', async () => {
    const token = await fake.firebaseIdToken({
      sub: 'nginx-user',
      email: 'ada@example.com',
      email_verified: true,
      firebase: { identities: {}, sign_in_provider: 'google.com' },
    });
    const res = await get('/api/orders?page=2', { Authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    const got = seen[0] as Seen;
    expect(got.url).toBe('/api/orders?page=2');
    expect(got.headers['x-auth-uid']).toBe('nginx-user');
    expect(got.headers['x-auth-email']).toBe('ada@example.com');
    expect(got.headers['x-auth-email-verified']).toBe('true');
    expect(got.headers['x-auth-provider']).toBe('google.com');
    const claims = JSON.parse(Buffer.from(String(got.headers['x-auth-claims']), 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'nginx-user', aud: fake.projectId, email: 'ada@example.com' });
    // The bridge logged the original request (path only: the query may carry a token).
    const line = bridge.logs.entries().filter((entry) => entry.msg === 'request').pop();
    expect(line).toMatchObject({ path: '/v1/authz', originalMethod: 'GET', originalPath: '/api/orders', status: 200 });
  });

  it('the cookie works for browser pages (AUTHZ_COOKIE_NAME)', async () => {
    const token = await fake.firebaseIdToken({ sub: 'cookie-user' });
    const res = await get('/api/page', { Cookie: `__session=${token}` });
    expect(res.status).toBe(200);
    expect(seen[0]?.headers['x-auth-uid']).toBe('cookie-user');
  });

  it('a missing, forged or expired token never reaches the upstream: 401 with the bridge\'s WWW-Authenticate', async () => {
    const now = Math.floor(Date.now() / 1000);
    const missing = await get('/api/orders');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="firebridge"');
    const forged = `${(await fake.firebaseIdToken({ sub: 'mallory' })).slice(0, -6)}AAAAAA`;
    const expired = await fake.firebaseIdToken({ exp: now - 3600, iat: now - 7200, auth_time: now - 7200 });
    for (const token of [forged, expired, 'not-a-jwt']) {
      const res = await get('/api/orders', { Authorization: `Bearer ${token}` });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="firebridge", error="invalid_token", error_description="/);
    }
    const res = await get('/api/orders', { Authorization: `Bearer ${expired}` });
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="firebridge", error="invalid_token", error_description="token has expired"');
    expect(seen).toHaveLength(0);
  });

  it('a malformed Authorization header is 401 at the client (a 400 from the bridge would be nginx\'s 500)', async () => {
    for (const header of ['Bearer', 'Bearer a b', 'Bearer "x"']) {
      const res = await get('/api/orders', { Authorization: header });
      expect([header, res.status]).toEqual([header, 401]);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="firebridge"/);
    }
    expect(seen).toHaveLength(0);
  });

  it('a client-sent X-Auth-Uid (or any X-Auth-* header) is replaced on protected locations and stripped on public ones', async () => {
    const forged = {
      'X-Auth-Uid': 'admin',
      'x-auth-email': 'root@example.com',
      'X-Auth-Email-Verified': 'true',
      'X-Auth-Claims': Buffer.from('{"admin":true}').toString('base64url'),
      'X-Auth-Provider': 'password',
    };
    const token = await fake.firebaseIdToken({ sub: 'real-user', firebase: { identities: {}, sign_in_provider: 'custom' } });
    expect((await get('/api/me', { ...forged, Authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await get('/public/page', forged)).status).toBe(200);
    expect(seen).toHaveLength(2);
    const [protectedReq, publicReq] = seen as [Seen, Seen];
    expect(protectedReq.headers['x-auth-uid']).toBe('real-user');
    expect(protectedReq.headers['x-auth-email']).toBeUndefined(); // the token has none: the client's is dropped
    expect(protectedReq.headers['x-auth-email-verified']).toBe('false');
    expect(protectedReq.headers['x-auth-provider']).toBe('custom');
    expect(JSON.parse(Buffer.from(String(protectedReq.headers['x-auth-claims']), 'base64url').toString('utf8'))).not.toHaveProperty('admin');
    for (const name of ['x-auth-uid', 'x-auth-email', 'x-auth-email-verified', 'x-auth-claims', 'x-auth-provider']) {
      expect([name, publicReq.headers[name]]).toEqual([name, undefined]);
    }
  });

  it('a rule refusal is 403 and never reaches the upstream; the rule met passes', async () => {
    const user = await fake.firebaseIdToken({ sub: 'plain-user' });
    const admin = await fake.firebaseIdToken({ sub: 'admin-user', admin: true });
    expect((await get('/admin/panel', { Authorization: `Bearer ${user}` })).status).toBe(403);
    expect(seen).toHaveLength(0);
    expect((await get('/admin/panel', { Authorization: `Bearer ${admin}` })).status).toBe(200);
    expect(seen.map((req) => req.headers['x-auth-uid'])).toEqual(['admin-user']);
  });

  it('the internal subrequest locations cannot be called by a client', async () => {
    const token = await fake.firebaseIdToken();
    const res = await get('/_firebridge/authz', { Authorization: `Bearer ${token}` });
    expect(res.status).toBe(404);
  });

  // Last: it stops the bridge.
  it('the bridge down → 500 from nginx, never a pass', async () => {
    const token = await fake.firebaseIdToken({ sub: 'while-down' });
    expect((await get('/api/orders', { Authorization: `Bearer ${token}` })).status).toBe(200);
    seen.length = 0;
    bridgeServer.closeAllConnections();
    await new Promise<void>((resolve) => bridgeServer.close(() => resolve()));
    const res = await get('/api/orders', { Authorization: `Bearer ${token}` });
    expect(res.status).toBe(500);
    expect(seen).toHaveLength(0);
  });
});
