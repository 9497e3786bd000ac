import { type ConfiguredConfig, loadConfig } from '../../src/config';
import { type RunningServer, startServer } from '../../src/compose/server';
import { createLogger } from '../../src/logger';
import { FakeGoogle } from '../../testkit/fake-google';
import { LogCapture, configuredEnv, keysDirWith } from '../../testkit/harness';
import { parseExposition } from '../../testkit/metrics';
import { bridgeFetch } from '../../testkit/openapi-fetch';

describe('the metrics listener of METRICS_PORT', () => {
  // Both listeners' answers are checked against /openapi.json (GET /metrics is the metrics listener's only route).
  const fetch = bridgeFetch();
  let fake: FakeGoogle;
  const running: RunningServer[] = [];
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.shutdown()));
  });
  afterAll(() => fake.close());

  async function start(extra: Record<string, string>) {
    const env = configuredEnv(fake, keysDirWith(fake.createServiceAccount()), { PORT: '0', HOST: '127.0.0.1', ...extra });
    const logs = new LogCapture();
    const server = await startServer(loadConfig(env) as ConfiguredConfig, { logger: createLogger('info', logs), shutdownGraceMs: 500 });
    running.push(server);
    fetch.bridge(server.url);
    if (server.metricsUrl !== undefined) fetch.bridge(server.metricsUrl);
    return { server, logs };
  }

  it('serves /metrics on its own port (127.0.0.1 by default), and the main port then answers 404', async () => {
    const { server, logs } = await start({ METRICS_PORT: '0' });
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.metricsUrl).not.toBe(server.url);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);

    // Traffic on the main port shows on the metrics port; the metrics port serves nothing else.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const res = await fetch(`${server.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    // The main app's security headers, on this listener too.
    const main = await fetch(`${server.url}/healthz`);
    for (const name of ['content-security-policy', 'strict-transport-security', 'x-content-type-options', 'x-frame-options', 'cache-control']) {
      expect({ name, value: res.headers.get(name) }).toEqual({ name, value: main.headers.get(name) });
    }
    const scraped = parseExposition(await res.text());
    expect(scraped.value('firebridge_request_duration_seconds_count', { route: '/healthz', status_class: '2xx' })).toBe(1);
    expect(scraped.value('firebridge_request_duration_seconds_count', { route: '/metrics', status_class: '4xx' })).toBe(0);
    expect(scraped.value('firebridge_key_set_fetches_total', { set: 'google', outcome: 'success' })).toBe(1);
    // The main port's paths are NoSuchRoute there (unchecked: the document's /healthz is the main port's).
    for (const other of ['/healthz', '/v1/me']) {
      const res = await globalThis.fetch(`${server.metricsUrl}${other}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'not_found', error_description: 'no such route' });
    }
    expect((await fetch(`${server.metricsUrl}/metrics`, { method: 'POST' })).status).toBe(405);
    expect(logs.text).toMatch(/"msg":"metrics listening"/);
  });

  it('asks for METRICS_TOKEN there too', async () => {
    const token = 'c2NyYXBlLWNyZWRlbnRpYWwtZm9yLXRoZS10ZXN0LTEyMw';
    const { server } = await start({ METRICS_PORT: '0', METRICS_TOKEN: token });
    expect((await fetch(`${server.metricsUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.metricsUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('closes with the server', async () => {
    const { server } = await start({ METRICS_PORT: '0' });
    const url = server.metricsUrl as string;
    await server.shutdown();
    running.length = 0;
    await expect(fetch(`${url}/metrics`)).rejects.toThrow();
  });

  it('METRICS_ENABLED=false: no listener, and /metrics is 404 on the main port', async () => {
    const { server } = await start({ METRICS_ENABLED: 'false', METRICS_PORT: '0' });
    expect(server.metricsUrl).toBeUndefined();
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });

  it('without METRICS_PORT, /metrics is on the main port', async () => {
    const { server } = await start({});
    expect(server.metricsUrl).toBeUndefined();
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
  });
});
