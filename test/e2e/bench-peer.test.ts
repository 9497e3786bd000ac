/**
 * The benchmarks' peer setup must keep working: firebase-admin verifies the fake Google's tokens
 * through the loopback TLS relay (bench/google-tls.ts), and the agent never connects elsewhere.
 */
import { request } from 'node:https';
import { getAuth } from 'firebase-admin/auth';
import { adminApp, deleteApp, firebaseIdTokens } from '../../bench/common';
import { LoopbackGoogleAgent, startGoogleTls } from '../../bench/google-tls';
import { FakeGoogle } from '../../testkit/fake-google';

describe('bench peer: firebase-admin through the loopback Google relay', () => {
  let fake: FakeGoogle;
  let tls: Awaited<ReturnType<typeof startGoogleTls>>;
  let agent: LoopbackGoogleAgent;
  beforeAll(async () => {
    fake = await FakeGoogle.start('bench-peer-test');
    tls = await startGoogleTls(fake.url);
    agent = new LoopbackGoogleAgent(tls.port, tls.caPem);
  });
  afterAll(async () => {
    agent.destroy();
    await tls.close();
    await fake.close();
  });

  it('verifies the same tokens firebridge does, fetching the certificates from the fake once', async () => {
    const app = adminApp(fake.createServiceAccount().json, fake.projectId, agent, 'bench-peer-test');
    try {
      const auth = getAuth(app);
      const before = fake.securetoken.hits;
      const [t1, t2] = await firebaseIdTokens(fake.securetoken.keys[0]!, fake.projectId, 2);
      expect((await auth.verifyIdToken(t1 as string)).uid).toMatch(/^google:\d+$/);
      expect((await auth.verifyIdToken(t2 as string)).uid).toMatch(/^google:\d+$/);
      expect(fake.securetoken.hits - before).toBe(1);
      // A token signed by a key the fake does not publish is refused by the peer too.
      const [forged] = await firebaseIdTokens({ ...fake.securetoken.keys[0]!, privateKey: fake.createServiceAccount().key.privateKey }, fake.projectId, 1);
      await expect(auth.verifyIdToken(forged as string)).rejects.toThrow();
      // createCustomToken signs locally with the service account (no network).
      expect((await auth.createCustomToken('google:1')).split('.')).toHaveLength(3);
    } finally {
      await deleteApp(app);
    }
  });

  it('the agent refuses any host but www.googleapis.com', async () => {
    const outcome = await new Promise<string>((resolve) => {
      try {
        const req = request('https://example.com/', { agent }, () => resolve('connected'));
        req.on('error', (err) => resolve(err.message));
        req.end();
      } catch (err) {
        resolve((err as Error).message); // thrown from the agent's createConnection, before any socket exists
      }
    });
    expect(outcome).toMatch(/refuses to connect to example\.com/);
  });
});
