import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { databaseCheck } from '../../src/doctor/database';
import { redisCheck } from '../../src/doctor/redis';
import { unsafeSettingsCheck } from '../../src/doctor/unsafe-settings';
import { SqliteVaultRepository } from '../../src/vault/sqlite';
import { type DoctorFakes, runCheck, startDoctorFakes } from '../../testkit/doctor';
import { OwnRedis, freePort } from '../../testkit/redis-server';

const tempDir = (name: string) => mkdtempSync(path.join(tmpdir(), `firebridge-doctor-${name}-`));

/** The vault's settings (account linking on), with its data in `dataDir`. */
function vaultEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    GOOGLE_OAUTH_CLIENT_ID: '123456789012-vaultclient0123.apps.googleusercontent.com',
    GOOGLE_OAUTH_CLIENT_SECRET: 'GOCSPX-doctor-test-secret',
    DATA_DIR: dataDir,
    ...extra,
  };
}

/** A bare local-mode environment (an empty KEYS_DIR, state in a temp folder). */
function localEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { NODE_ENV: 'development', KEYS_DIR: tempDir('local-keys'), LOCAL_STATE_DIR: path.join(tempDir('local'), 'state'), ...extra };
}

describe('doctor: Redis, the database, unsafe settings', () => {
  let fakes: DoctorFakes;
  beforeAll(async () => {
    fakes = await startDoctorFakes();
  });
  afterAll(() => fakes.close());

  describe('Redis', () => {
    let redis: OwnRedis;
    beforeAll(async () => {
      redis = await OwnRedis.start();
    });
    afterAll(() => redis.close());

    it('healthy: answers PING', async () => {
      const verdict = await runCheck(redisCheck, fakes.env({ REDIS_URL: redis.url }));
      expect(verdict).toEqual({ status: 'ok', message: `127.0.0.1:${redis.port} answers PING` });
    });

    it('Redis down: ✗ within its timeout', async () => {
      const port = await freePort();
      const started = Date.now();
      const verdict = await runCheck(redisCheck, fakes.env({ REDIS_URL: `redis://:s3cret-pass@127.0.0.1:${port}/0` }));
      expect(verdict.status).toBe('error');
      expect(verdict.message).toContain(`127.0.0.1:${port} does not answer PING`);
      expect(JSON.stringify(verdict)).not.toContain('s3cret-pass');
      expect(Date.now() - started).toBeLessThan(10_000);
    });

    it('not configured: does not apply', async () => {
      expect(await runCheck(redisCheck, fakes.env())).toMatchObject({ status: 'ok', skipped: true });
    });
  });

  describe('database (vault)', () => {
    it('healthy SQLite: an existing firebridge.db answers', async () => {
      const dataDir = tempDir('data');
      const repository = SqliteVaultRepository.inDataDir(dataDir);
      await repository.migrate();
      await repository.close();
      expect(await runCheck(databaseCheck, fakes.env(vaultEnv(dataDir)))).toMatchObject({ status: 'ok', message: expect.stringContaining('answers') });
    });

    it('SQLite not created yet: ✓ when DATA_DIR can be created (and nothing is created), ✗ when not writable', async () => {
      const parent = tempDir('data-parent');
      const dataDir = path.join(parent, 'data');
      expect(await runCheck(databaseCheck, fakes.env(vaultEnv(dataDir)))).toMatchObject({ status: 'ok', message: expect.stringContaining('does not exist yet') });
      expect(existsSync(dataDir)).toBe(false);
      if (process.getuid?.() !== 0) {
        chmodSync(parent, 0o500);
        try {
          expect(await runCheck(databaseCheck, fakes.env(vaultEnv(dataDir)))).toMatchObject({ status: 'error', message: expect.stringContaining('not writable') });
        } finally {
          chmodSync(parent, 0o700);
        }
      }
    });

    it('PostgreSQL down: ✗ naming the host, never the password', async () => {
      const port = await freePort();
      const verdict = await runCheck(databaseCheck, fakes.env(vaultEnv(tempDir('data'), { DATABASE_URL: `postgres://bridge:pg-s3cret@127.0.0.1:${port}/vault` })));
      expect(verdict.status).toBe('error');
      expect(verdict.message).toContain(`PostgreSQL at 127.0.0.1:${port} does not answer`);
      expect(JSON.stringify(verdict)).not.toContain('pg-s3cret');
    });

    const postgres = process.env.DATABASE_URL ? it : it.skip;
    postgres('healthy PostgreSQL (DATABASE_URL set for the tests): answers', async () => {
      const verdict = await runCheck(databaseCheck, fakes.env(vaultEnv(tempDir('data'), { DATABASE_URL: process.env.DATABASE_URL as string })));
      expect(verdict.status).toBe('ok');
    });

    it('account linking off: does not apply', async () => {
      expect(await runCheck(databaseCheck, fakes.env())).toMatchObject({ status: 'ok', skipped: true });
    });

    it('a SQLite file that is not a database: ✗', async () => {
      const dataDir = tempDir('data');
      writeFileSync(path.join(dataDir, 'firebridge.db'), 'this is not a database, just text that is long enough'.repeat(20), { mode: 0o600 });
      expect(await runCheck(databaseCheck, fakes.env(vaultEnv(dataDir)))).toMatchObject({ status: 'error' });
    });
  });

  describe('unsafe settings', () => {
    it('healthy: nothing unsafe together', async () => {
      expect(await runCheck(unsafeSettingsCheck, fakes.env({ TRUST_PROXY: 'loopback,10.0.0.0/8' }))).toMatchObject({ status: 'ok' });
    });

    it('metrics exposed publicly: ⚠ on the main port of a public HOST, or METRICS_HOST every interface, without METRICS_TOKEN', async () => {
      const exposed: Array<Record<string, string>> = [
        { METRICS_PORT: '', HOST: '0.0.0.0' },
        { METRICS_PORT: '', HOST: '203.0.113.10' },
        { METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' },
        { METRICS_PORT: '9464', METRICS_HOST: '::' },
        { METRICS_PORT: '9464', METRICS_HOST: '198.51.100.7' },
      ];
      for (const settings of exposed) {
        const env = fakes.env(settings);
        if (settings.METRICS_PORT === '') delete env.METRICS_PORT;
        const verdict = await runCheck(unsafeSettingsCheck, env);
        expect({ settings, status: verdict.status }).toEqual({ settings, status: 'warn' });
        expect(verdict.message).toContain('metrics exposed publicly');
        expect(verdict.fix).toContain('METRICS_TOKEN');
      }
      const fine: Array<Record<string, string>> = [
        { METRICS_PORT: '', HOST: '127.0.0.1' },
        { METRICS_PORT: '', HOST: '0.0.0.0', METRICS_TOKEN: 'Zr8kq2VbN4xW7mT1pL9sD3fH6jC0yA5uE2gQ8wR4tY6' },
        { METRICS_PORT: '9464', METRICS_HOST: '10.0.4.12' },
        { METRICS_PORT: '9464', METRICS_HOST: '127.0.0.1' },
        { METRICS_PORT: '', HOST: '0.0.0.0', METRICS_ENABLED: 'false' },
      ];
      for (const settings of fine) {
        const env = fakes.env(settings);
        if (settings.METRICS_PORT === '') delete env.METRICS_PORT;
        const verdict = await runCheck(unsafeSettingsCheck, env);
        expect({ settings, status: verdict.status }).toEqual({ settings, status: 'ok' });
      }
    });

    it('TRUST_PROXY 0.0.0.0/0 or ::/0: ✗', async () => {
      for (const trust of ['0.0.0.0/0', 'loopback,::/0']) {
        const verdict = await runCheck(unsafeSettingsCheck, fakes.env({ TRUST_PROXY: trust }));
        expect({ trust, status: verdict.status }).toEqual({ trust, status: 'error' });
        expect(verdict.message).toContain('believes X-Forwarded-For from any address');
      }
    });

    it('local mode: ⚠ (fine on a laptop); local mode public on the network: ✗', async () => {
      const local = await runCheck(unsafeSettingsCheck, localEnv());
      expect(local.status).toBe('warn');
      expect(local.message).toContain('local mode');
      const exposed = await runCheck(unsafeSettingsCheck, localEnv({ HOST: '0.0.0.0', LOCAL_MODE_PUBLIC: 'true' }));
      expect(exposed.status).toBe('error');
      expect(exposed.message).toContain('HOST=0.0.0.0');
    });
  });
});
