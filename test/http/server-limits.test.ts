import { type Socket, connect } from 'node:net';
import { ConfigError, type ConfiguredConfig, loadConfig } from '../../src/config';
import { connectionsCheckingIntervalMs } from '../../src/http/http-server';
import { createLogger } from '../../src/logger';
import { type RunningServer, startServer } from '../../src/compose/server';
import { FakeGoogle } from '../../testkit/fake-google';
import { LogCapture, configuredEnv, keysDirWith } from '../../testkit/harness';
import { bridgeFetch } from '../../testkit/openapi-fetch';

/** Every response fetched from the servers is checked against /openapi.json (raw-socket probes are not). */
const fetch = bridgeFetch();

/** A raw client socket: what it received, and when the server closed it (ms after connecting). */
interface RawClient {
  socket: Socket;
  received(): string;
  /** Resolves with the time the socket closed, or undefined if it is still open after `withinMs`. */
  closedWithin(withinMs: number): Promise<number | undefined>;
  startedAt: number;
}

async function rawClient(url: string): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const startedAt = Date.now();
  let data = '';
  let closedAt: number | undefined;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString('latin1');
  });
  socket.on('error', () => undefined);
  void closed.then(() => {
    closedAt = Date.now();
  });
  return {
    socket,
    startedAt,
    received: () => data,
    closedWithin: async (withinMs) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs)))]);
      clearTimeout(timer);
      await new Promise((resolve) => setImmediate(resolve));
      return closedAt === undefined ? undefined : closedAt - startedAt;
    },
  };
}

/** Writes `bytes` one at a time, `everyMs` apart, while the socket stays open. */
function trickle(client: RawClient, bytes: string, everyMs: number): () => void {
  let i = 0;
  const timer = setInterval(() => {
    if (client.socket.destroyed || i >= bytes.length) return;
    client.socket.write(bytes[i++] as string);
  }, everyMs);
  return () => clearInterval(timer);
}

describe('HTTP server limits: slow clients and connection floods', () => {
  let fake: FakeGoogle;
  const running: RunningServer[] = [];
  const clients: RawClient[] = [];
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.destroy();
    await Promise.all(running.splice(0).map((r) => r.shutdown()));
  });
  afterAll(() => fake.close());

  async function start(env: Record<string, string>): Promise<RunningServer> {
    const config = loadConfig(
      configuredEnv(fake, keysDirWith(fake.createServiceAccount()), { PORT: '0', HOST: '127.0.0.1', ...env }),
    ) as ConfiguredConfig;
    const server = await startServer(config, { logger: createLogger('info', new LogCapture()), shutdownGraceMs: 200 });
    running.push(server);
    return server;
  }

  async function client(url: string): Promise<RawClient> {
    const c = await rawClient(url);
    clients.push(c);
    return c;
  }

  it('settings: documented defaults, bounds, and headers timeout ≤ request timeout', () => {
    const base = { FIREBASE_PROJECT_ID: 'my-app-12345', GOOGLE_CLIENT_IDS: 'a' };
    expect(loadConfig(base).http).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 15_000,
      keepAliveTimeoutMs: 5_000,
      maxConnections: 10_000,
    });
    expect(
      loadConfig({
        ...base,
        HTTP_HEADERS_TIMEOUT_MS: '2000',
        HTTP_REQUEST_TIMEOUT_MS: '3000',
        HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000',
        HTTP_MAX_CONNECTIONS: '50',
      }).http,
    ).toEqual({ headersTimeoutMs: 2000, requestTimeoutMs: 3000, keepAliveTimeoutMs: 1000, maxConnections: 50 });
    const settingOf = (env: Record<string, string>): string => {
      try {
        loadConfig({ ...base, ...env });
      } catch (err) {
        if (err instanceof ConfigError) return err.setting;
        throw err;
      }
      throw new Error('loadConfig did not throw');
    };
    expect(settingOf({ HTTP_HEADERS_TIMEOUT_MS: '0' })).toBe('HTTP_HEADERS_TIMEOUT_MS');
    expect(settingOf({ HTTP_REQUEST_TIMEOUT_MS: 'soon' })).toBe('HTTP_REQUEST_TIMEOUT_MS');
    // 0 would mean "never" to Node.
    expect(settingOf({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '0' })).toBe('HTTP_KEEP_ALIVE_TIMEOUT_MS');
    expect(settingOf({ HTTP_MAX_CONNECTIONS: '0' })).toBe('HTTP_MAX_CONNECTIONS');
    expect(() => loadConfig({ ...base, HTTP_HEADERS_TIMEOUT_MS: '20000' })).toThrow(
      'HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (15000), got 20000',
    );
    // Node's own check runs every 30 s; ours bites within a tenth of the timeout, at most 1 s late.
    expect(connectionsCheckingIntervalMs(loadConfig(base).http)).toBe(1000);
    expect(connectionsCheckingIntervalMs(loadConfig({ ...base, HTTP_HEADERS_TIMEOUT_MS: '400' }).http)).toBe(40);
  });

  it('a client sending its headers slowly gets 408 and is disconnected at HTTP_HEADERS_TIMEOUT_MS', async () => {
    const { url } = await start({ HTTP_HEADERS_TIMEOUT_MS: '400', HTTP_REQUEST_TIMEOUT_MS: '5000' });
    const slow = await client(url);
    slow.socket.write('GET /healthz HTTP/1.1\r\nHost: bridge\r\n');
    const stop = trickle(slow, 'X-Slow: ' + 'a'.repeat(200), 50);
    try {
      const closedAfter = await slow.closedWithin(3000);
      expect(closedAfter).toBeDefined();
      expect(closedAfter).toBeGreaterThanOrEqual(350);
      expect(closedAfter).toBeLessThan(1200);
      expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      stop();
    }
  });

  it('a client sending its body slowly gets 408 and is disconnected at HTTP_REQUEST_TIMEOUT_MS', async () => {
    const { url } = await start({ HTTP_HEADERS_TIMEOUT_MS: '300', HTTP_REQUEST_TIMEOUT_MS: '800' });
    const slow = await client(url);
    const body = JSON.stringify({ idToken: 'x'.repeat(200) });
    slow.socket.write(
      `POST /v1/token/google HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const stop = trickle(slow, body, 50);
    try {
      const closedAfter = await slow.closedWithin(3000);
      expect(closedAfter).toBeDefined();
      expect(closedAfter).toBeGreaterThanOrEqual(700);
      expect(closedAfter).toBeLessThan(1600);
      expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      stop();
    }
  });

  it('a request already received is not cut off while it waits on Google', async () => {
    const server = await start({ HTTP_HEADERS_TIMEOUT_MS: '200', HTTP_REQUEST_TIMEOUT_MS: '300', CERTS_REFETCH_COOLDOWN_MS: '100' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const newKey = fake.rotateSecuretoken();
    fake.securetoken.delayMs = 700;
    try {
      const token = await fake.firebaseIdToken({ sub: 'patient' }, { key: newKey });
      const res = await fetch(`${fetch.bridge(server.url)}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    } finally {
      fake.securetoken.delayMs = 0;
    }
  });

  it('an idle keep-alive connection is closed at HTTP_KEEP_ALIVE_TIMEOUT_MS', async () => {
    const { url } = await start({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '300' });
    const idle = await client(url);
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: bridge\r\n\r\n');
    const closedAfter = await idle.closedWithin(3000);
    expect(idle.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(closedAfter).toBeDefined();
    expect(closedAfter).toBeGreaterThanOrEqual(250);
    expect(closedAfter).toBeLessThan(1500);
  });

  it('connections past HTTP_MAX_CONNECTIONS are dropped; a freed slot is usable again', async () => {
    const server = await start({ HTTP_MAX_CONNECTIONS: '2' });
    const connections = () => new Promise<number>((resolve, reject) => server.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    const first = await client(server.url);
    const second = await client(server.url);
    for (let i = 0; i < 50 && (await connections()) < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await connections()).toBe(2);

    const third = await client(server.url);
    third.socket.write('GET /healthz HTTP/1.1\r\nHost: bridge\r\n\r\n');
    expect(await third.closedWithin(2000)).toBeDefined();
    expect(third.received()).toBe('');

    // The two admitted connections still work.
    first.socket.write('GET /healthz HTTP/1.1\r\nHost: bridge\r\nConnection: close\r\n\r\n');
    expect(await first.closedWithin(2000)).toBeDefined();
    expect(first.received()).toMatch(/^HTTP\/1\.1 200 /);
    for (let i = 0; i < 50 && (await connections()) > 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));

    const fourth = await client(server.url);
    fourth.socket.write('GET /healthz HTTP/1.1\r\nHost: bridge\r\nConnection: close\r\n\r\n');
    expect(await fourth.closedWithin(2000)).toBeDefined();
    expect(fourth.received()).toMatch(/^HTTP\/1\.1 200 /);
    second.socket.destroy();
  });
});
