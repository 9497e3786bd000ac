import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Clock } from '../src/clock';
import { loadConfig } from '../src/config';
import type { DoctorCheck, Verdict } from '../src/doctor/check';
import type { FetchFn } from '../src/outbound/fetch';
import { FakeFcm } from './fake-fcm';
import { FakeGoogle, type TestServiceAccount } from './fake-google';
import { FakeIam } from './fake-iam';
import { configuredEnv, keysDirWith } from './harness';

/** A client ID shaped as Google issues them. */
export const DOCTOR_CLIENT_ID = '123456789012-abcdefghij0123456789klmnopqrstuv.apps.googleusercontent.com';

/** The fake Google, IAM (token, signBlob) and FCM a healthy configured bridge talks to, and its signing account. */
export interface DoctorFakes {
  google: FakeGoogle;
  iam: FakeIam;
  fcm: FakeFcm;
  account: TestServiceAccount;
  /** A healthy configured environment: a fresh KEYS_DIR holding the account's key (0600), every URL on the fakes. */
  env(extra?: Record<string, string>, keysDir?: string): Record<string, string>;
  /** A healthy keyless environment: an empty KEYS_DIR, SERVICE_ACCOUNT_EMAIL, ADC from a service_account file. */
  keylessEnv(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export async function startDoctorFakes(): Promise<DoctorFakes> {
  const google = await FakeGoogle.start();
  const iam = await FakeIam.start(google);
  const fcm = await FakeFcm.start(iam, google.projectId);
  const account = google.createServiceAccount();
  iam.addKey(account.clientEmail, account.key);
  const env = (extra: Record<string, string> = {}, keysDir = keysDirWith(account)) =>
    configuredEnv(google, keysDir, {
      HOME: '/nonexistent-home',
      GOOGLE_CLIENT_IDS: DOCTOR_CLIENT_ID,
      GOOGLE_TOKEN_URL: iam.tokenUrl,
      IAM_CREDENTIALS_API_URL: iam.url,
      FCM_API_URL: fcm.url,
      FCM_MAX_RETRIES: '0',
      LOG_LEVEL: 'silent',
      // /metrics on its own loopback listener: the healthy setup exposes nothing (doctor never listens on it).
      METRICS_PORT: '9464',
      ...extra,
    });
  return {
    google,
    iam,
    fcm,
    account,
    env,
    keylessEnv: (extra = {}) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'firebridge-doctor-adc-'));
      const credentials = path.join(dir, 'adc.json');
      writeFileSync(credentials, JSON.stringify(account.json), { mode: 0o600 });
      const keysDir = path.join(dir, 'keys');
      mkdirSync(keysDir);
      return env({ SERVICE_ACCOUNT_EMAIL: account.clientEmail, GOOGLE_APPLICATION_CREDENTIALS: credentials, ...extra }, keysDir);
    },
    close: async () => {
      await Promise.all([fcm.close(), iam.close(), google.close()]);
    },
  };
}

/** Runs one check against the configuration `env` describes, with the injected fetch and clock. */
export function runCheck(check: DoctorCheck, env: Record<string, string>, options: { clock?: Clock; fetch?: FetchFn } = {}): Promise<Verdict> {
  return check.run({ config: loadConfig(env), fetch: options.fetch ?? globalThis.fetch, clock: options.clock ?? Date.now, logger: pino({ level: 'silent' }) });
}

/** Sets a file's mode (writeFileSync's mode is filtered by the umask). */
export function chmod(file: string, mode: number): string {
  chmodSync(file, mode);
  return file;
}
