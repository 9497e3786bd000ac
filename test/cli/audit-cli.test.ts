import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { runAuditCli } from '../../src/cli/audit';
import { ChainWriter } from '../../src/audit/chain-writer';
import { FakeGoogle } from '../../testkit/fake-google';
import { keysDirWith } from '../../testkit/harness';
import { keysCli } from '../../testkit/keys-cli';

async function auditCli(argv: string[], env: Record<string, string>, cwd = process.cwd()) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runAuditCli(argv, {
    env,
    cwd,
    stdout: (l) => stdout.push(l),
    stderr: (l) => stderr.push(l),
    fetch: () => Promise.reject(new Error('no network')),
    clock: Date.now,
  });
  return { code, stdout, stderr };
}

async function chain(file: string, count: number, hmacKey?: Buffer): Promise<void> {
  const writer = new ChainWriter({ file, includeEmail: false, maxBytes: 0, clock: Date.now, logger: pino({ level: 'silent' }), autoFlush: false, ...(hmacKey ? { hmacKey } : {}) });
  for (let i = 0; i < count; i += 1) writer.record({ event: 'test', n: i });
  await writer.flush();
}

describe('npm run audit -- verify', () => {
  it('exit 0 on a sound chain (AUDIT_LOG by default, or the file named); 1 naming file:line of the first broken line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'firebridge-audit-cli-'));
    const file = path.join(dir, 'audit.log');
    await chain(file, 3);
    const ok = await auditCli(['verify'], { AUDIT_LOG: file });
    expect(ok).toMatchObject({ code: 0, stderr: [] });
    expect(ok.stdout[0]).toMatch(/^audit: ok: 3 lines, seq 1\.\.3, 1 file \(SHA-256 chain, head file matches\)/);
    expect((await auditCli(['verify', 'audit.log'], {}, dir)).code).toBe(0);

    const lines = readFileSync(file, 'utf8').split('\n');
    lines[1] = (lines[1] as string).replace('"n":1', '"n":7');
    writeFileSync(file, lines.join('\n'));
    const broken = await auditCli(['verify', file], {});
    expect(broken.code).toBe(1);
    expect(broken.stdout[0]).toBe(`audit: BROKEN at ${file}:2: its hash does not match its content (edited; or an HMAC chain: set AUDIT_HMAC_KEY_FILE to verify it)`);
  });

  it('an HMAC chain verifies with AUDIT_HMAC_KEY_FILE, and not without; usage and configuration errors', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'firebridge-audit-cli-'));
    const keyFile = path.join(dir, 'audit.key');
    writeFileSync(keyFile, 'z'.repeat(48), { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    const file = path.join(dir, 'audit.log');
    await chain(file, 2, Buffer.from('z'.repeat(48)));
    expect((await auditCli(['verify', file], { AUDIT_HMAC_KEY_FILE: keyFile })).stdout[0]).toMatch(/ok: 2 lines.*HMAC-SHA256/);
    expect((await auditCli(['verify', file], {})).code).toBe(1);
    expect((await auditCli([], {})).code).toBe(2);
    expect((await auditCli(['verify', '--force'], {})).code).toBe(2);
    expect((await auditCli(['verify'], { AUDIT_LOG: '-' })).code).toBe(2);
    chmodSync(keyFile, 0o640);
    const bad = await auditCli(['verify', file], { AUDIT_HMAC_KEY_FILE: keyFile });
    expect(bad.code).toBe(78);
    expect(bad.stderr[0]).toMatch(/AUDIT_HMAC_KEY_FILE/);
    expect((await auditCli(['verify', path.join(dir, 'none.log')], {})).stdout[0]).toMatch(/BROKEN at .*none\.log: no such audit log/);
  });

  it('AUDIT_LOG=- : the lines go to stdout; a capture mixed with other log lines verifies with --mixed, and a removed line is caught', async () => {
    const out: string[] = [];
    const writer = new ChainWriter({ file: '-', includeEmail: false, maxBytes: 1024, clock: Date.now, logger: pino({ level: 'silent' }), autoFlush: false, stdout: (t) => out.push(t) });
    for (let i = 0; i < 4; i += 1) {
      writer.record({ event: 'test', n: i });
      expect(await writer.flush()).toBe(true);
      out.push(`${JSON.stringify({ level: 30, msg: 'request', n: i })}\n`);
    }
    const capture = out.join('').split('\n').filter(Boolean);
    expect(capture).toHaveLength(8);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-audit-cli-')), 'collected.log');
    writeFileSync(file, `${capture.join('\n')}\n`);
    expect((await auditCli(['verify', file, '--mixed'], {})).stdout[0]).toMatch(/ok: 4 lines.*head not checked/);
    expect((await auditCli(['verify', file, '--no-head'], {})).code).toBe(1); // the log lines are not audit lines
    writeFileSync(file, `${capture.filter((_l, i) => i !== 2).join('\n')}\n`);
    const broken = await auditCli(['verify', file, '--mixed'], {});
    expect(broken.code).toBe(1);
    expect(broken.stdout[0]).toMatch(/collected\.log:4: seq 3 where 2 was expected/);
  });

  it("the keys script's audit log is the same chain: its commands verify, and an edit is caught", async () => {
    const fake = await FakeGoogle.start();
    try {
      const dir = keysDirWith(fake.createServiceAccount());
      const env = { KEYS_DIR: dir, FIREBASE_PROJECT_ID: fake.projectId };
      expect((await keysCli(['list'], env)).code).toBe(0);
      expect((await keysCli(['retire', 'nope'], env)).code).toBe(1);
      const log = path.join(dir, 'audit.log');
      const entries = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(entries.map((e) => [e.seq, e.event, e.command, e.outcome])).toEqual([
        [1, 'keys.command', 'list', 'ok'],
        [2, 'keys.command', 'retire', 'failed'],
      ]);
      expect((await auditCli(['verify', log], {})).code).toBe(0);
      writeFileSync(log, readFileSync(log, 'utf8').replace('"outcome":"failed"', '"outcome":"ok"'));
      expect((await auditCli(['verify', log], {})).stdout[0]).toMatch(new RegExp(`BROKEN at ${log}:2:`));
    } finally {
      await fake.close();
    }
  });
});
