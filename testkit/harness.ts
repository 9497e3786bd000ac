import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import type { AuditLog } from '../src/audit/audit-trail';
import type { PushSender } from '../src/auth/push-sender';
import type { Clock } from '../src/clock';
import { type ConfiguredConfig, loadConfig } from '../src/config';
import { createApp } from '../src/http/app';
import { createLogger } from '../src/logger';
import { type Dependencies, createDependencies } from '../src/compose/dependencies';
import type { FakeGoogle, TestServiceAccount } from './fake-google';
import { testAuditLog } from './spawn-server';

export const WEB_CLIENT_ID = 'web-client.apps.googleusercontent.com';

/** Every log line written, as text, to assert on (and to prove no secret is logged). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  get text(): string {
    return this.lines.join('\n');
  }
  entries(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

/** A KEYS_DIR in a temp folder holding the account's key file, 0600. */
export function keysDirWith(...accounts: TestServiceAccount[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'firebridge-keys-'));
  for (const account of accounts) {
    const file = path.join(dir, `${account.key.kid}.json`);
    writeFileSync(file, JSON.stringify(account.json, null, 2), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return dir;
}

export function configuredEnv(fake: FakeGoogle, keysDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    FIREBASE_PROJECT_ID: fake.projectId,
    GOOGLE_CLIENT_IDS: `${WEB_CLIENT_ID},other-client.apps.googleusercontent.com`,
    KEYS_DIR: keysDir,
    GOOGLE_CERTS_URL: fake.googleCertsUrl,
    FIREBASE_CERTS_URL: fake.firebaseCertsUrl,
    LOG_LEVEL: 'info',
    AUDIT_LOG: testAuditLog(),
    ...extra,
  };
}

export interface TestBridge {
  app: Express;
  deps: Dependencies;
  config: ConfiguredConfig;
  logs: LogCapture;
}

/** A configured bridge app against the fake Google, with a controllable clock if given. */
export function bridgeFor(
  fake: FakeGoogle,
  options: { account?: TestServiceAccount; env?: Record<string, string>; clock?: Clock; push?: PushSender; audit?: AuditLog } = {},
): TestBridge {
  const account = options.account ?? fake.createServiceAccount();
  const config = loadConfig(configuredEnv(fake, keysDirWith(account), options.env)) as ConfiguredConfig;
  const logs = new LogCapture();
  const logger = createLogger(config.logLevel, logs);
  const deps = createDependencies(config, {
    logger,
    clock: options.clock ?? Date.now,
    fetch: globalThis.fetch,
    push: options.push,
    ...(options.audit ? { audit: options.audit } : {}),
  });
  return { app: createApp(config, deps), deps, config, logs };
}

/** A clock tests move by hand. */
export function manualClock(start = Date.now()): Clock & { advance(ms: number): void; set(ms: number): void } {
  let now = start;
  const clock = (() => now) as Clock & { advance(ms: number): void; set(ms: number): void };
  clock.advance = (ms: number) => {
    now += ms;
  };
  clock.set = (ms: number) => {
    now = ms;
  };
  return clock;
}
