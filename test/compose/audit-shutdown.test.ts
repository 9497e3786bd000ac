import { readFileSync } from 'node:fs';
import { type ConfiguredConfig, loadConfig } from '../../src/config';
import { verifyChain } from '../../src/audit/verify';
import { createLogger } from '../../src/logger';
import { startServer } from '../../src/compose/server';
import { FakeGoogle } from '../../testkit/fake-google';
import { LogCapture, configuredEnv, keysDirWith } from '../../testkit/harness';

describe('the server and its audit trail', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('records the start-up mode and the stop; what is queued at shutdown is on disk when shutdown resolves', async () => {
    const config = loadConfig(configuredEnv(fake, keysDirWith(fake.createServiceAccount()), { PORT: '0', HOST: '127.0.0.1' })) as ConfiguredConfig;
    const running = await startServer(config, { logger: createLogger('info', new LogCapture()), shutdownGraceMs: 1000 });
    const res = await fetch(`${running.url}/v1/token/google`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ idToken: await fake.googleIdToken() }),
    });
    expect(res.status).toBe(200);
    await running.shutdown();
    const events = readFileSync(config.audit.file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.event)).toEqual(['key.load', 'server.start', 'token.exchange', 'server.stop']);
    expect(events[1]).toMatchObject({ mode: 'configured', signing: 'key-file', projectId: fake.projectId });
    expect(events[2]).toMatchObject({ outcome: 'ok', ip: '127.0.0.1' });
    expect(await verifyChain(config.audit.file)).toMatchObject({ ok: true, lines: 4 });
  });
});
