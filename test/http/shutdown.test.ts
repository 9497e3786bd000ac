import { type ConfiguredConfig, loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startServer } from '../../src/compose/server';
import { FakeGoogle } from '../../testkit/fake-google';
import { LogCapture, configuredEnv, keysDirWith } from '../../testkit/harness';
import { bridgeFetch } from '../../testkit/openapi-fetch';

/** Every response of the server is checked against /openapi.json. */
const fetch = bridgeFetch();

describe('graceful shutdown', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  async function start(graceMs: number) {
    const config = loadConfig(
      configuredEnv(fake, keysDirWith(fake.createServiceAccount()), { PORT: '0', HOST: '127.0.0.1', CERTS_REFETCH_COOLDOWN_MS: '100' }),
    ) as ConfiguredConfig;
    const logs = new LogCapture();
    const running = await startServer(config, { logger: createLogger('info', logs), shutdownGraceMs: graceMs });
    fetch.bridge(running.url);
    // Past the 100 ms refetch cooldown that the start-up fetch began, so a new kid is fetched at once.
    await new Promise((resolve) => setTimeout(resolve, 150));
    return { running, logs };
  }

  it('an in-flight request finishes; new connections are refused; shutdown resolves', async () => {
    const { running } = await start(5000);
    // A new securetoken key makes the next request wait on a slow refetch: it is in flight.
    const newKey = fake.rotateSecuretoken();
    fake.securetoken.delayMs = 400;
    const token = await fake.firebaseIdToken({ sub: 'in-flight' }, { key: newKey });
    try {
      const inFlight = fetch(`${running.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      await new Promise((r) => setTimeout(r, 100));
      const closedAt = Date.now();
      const closed = running.shutdown();
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(((await res.json()) as { uid: string }).uid).toBe('in-flight');
      await closed;
      expect(Date.now() - closedAt).toBeLessThan(1500);
      await expect(fetch(`${running.url}/healthz`)).rejects.toThrow();
    } finally {
      fake.securetoken.delayMs = 0;
    }
  });

  it('a request still running after the grace period is cut off, and shutdown still completes', async () => {
    const { running, logs } = await start(200);
    const newKey = fake.rotateSecuretoken();
    fake.securetoken.mode = 'hang';
    const token = await fake.firebaseIdToken({}, { key: newKey });
    try {
      const inFlight = fetch(`${running.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } }).catch(
        (err: Error) => err,
      );
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      await running.shutdown();
      expect(Date.now() - started).toBeLessThan(2000);
      // fetch rejects (socket closed) instead of resolving with a response.
      expect(await inFlight).not.toBeInstanceOf(Response);
      expect(logs.text).toContain('grace period over');
    } finally {
      fake.securetoken.mode = 'ok';
    }
  });
});
