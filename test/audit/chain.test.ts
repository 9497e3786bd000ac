import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { nodeAuditFs } from '../../src/audit/audit-fs';
import { ChainWriter, sanitizeAuditEvent } from '../../src/audit/chain-writer';
import { verifyChain } from '../../src/audit/verify';
import { LogCapture } from '../../testkit/harness';

const silent = pino({ level: 'silent' });
const KEY = Buffer.from('k'.repeat(40));

function tempLog(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-chain-')), 'sub', 'audit.log');
}

async function writeEvents(file: string, count: number, options: { hmacKey?: Buffer; maxBytes?: number; start?: number } = {}): Promise<ChainWriter> {
  const writer = new ChainWriter({
    file,
    includeEmail: false,
    maxBytes: options.maxBytes ?? 0,
    clock: () => Date.UTC(2026, 0, 1),
    logger: silent,
    autoFlush: false,
    ...(options.hmacKey ? { hmacKey: options.hmacKey } : {}),
  });
  for (let i = 0; i < count; i += 1) writer.record({ event: 'test.event', n: (options.start ?? 0) + i + 1, uid: `user-${i}` });
  expect(await writer.flush()).toBe(true);
  return writer;
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const writeLines = (file: string, text: string[]) => writeFileSync(file, text.map((l) => `${l}\n`).join(''));

describe('the audit hash chain', () => {
  it('verifies: seq 1..n, each line chained to the one before, the head file naming the last; file and folder modes', async () => {
    const file = tempLog();
    await writeEvents(file, 5);
    const result = await verifyChain(file);
    expect(result).toMatchObject({ ok: true, lines: 5, lastSeq: 5, files: [file] });
    const parsed = lines(file).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(parsed[0]).toMatchObject({ event: 'test.event', time: '2026-01-01T00:00:00.000Z', n: 1, uid: 'user-0', prev: '0'.repeat(64) });
    for (let i = 1; i < parsed.length; i += 1) expect(parsed[i]?.prev).toBe(parsed[i - 1]?.hash);
    expect(JSON.parse(readFileSync(`${file}.head`, 'utf8'))).toEqual({ seq: 5, hash: parsed[4]?.hash });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(`${file}.head`).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  it('a busy writer batches: events recorded one by one in separate turns take a few appends, each within batchMs', async () => {
    const appendsWith = async (batchMs: number) => {
      const file = tempLog();
      let appends = 0;
      const writer = new ChainWriter({
        file,
        includeEmail: false,
        maxBytes: 0,
        clock: Date.now,
        logger: silent,
        batchMs,
        fs: {
          ...nodeAuditFs,
          async append(target: string, text: string) {
            appends += 1;
            await nodeAuditFs.append(target, text);
          },
        },
      });
      const started = Date.now();
      for (let i = 0; i < 60; i += 1) {
        writer.record({ event: 'test.event', n: i + 1 });
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const recordedFor = Date.now() - started;
      // Written without a flush: the last batch starts at most batchMs after the last record.
      const deadline = Date.now() + batchMs + 1000;
      while (writer.status().lastSeq < 60 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(writer.status().lastSeq).toBe(60);
      expect((await verifyChain(file)).ok).toBe(true);
      await writer.close();
      return { appends, recordedFor };
    };
    const batched = await appendsWith(50);
    // One append per started 50 ms of recording (and the first at once), not one per event.
    expect(batched.appends).toBeLessThanOrEqual(Math.ceil(batched.recordedFor / 50) + 2);
    const eager = await appendsWith(0);
    expect(eager.appends).toBeGreaterThan(batched.appends * 2);
  });

  it('a large backlog is written in several appends (the event loop runs between them) and still verifies', async () => {
    const file = tempLog();
    await writeEvents(file, 1500);
    expect(await verifyChain(file)).toMatchObject({ ok: true, lines: 1500, lastSeq: 1500 });
  });

  it('an edited line is named (its own hash), even when only a number changed', async () => {
    const file = tempLog();
    await writeEvents(file, 5);
    const text = lines(file);
    text[2] = (text[2] as string).replace('"n":3', '"n":4');
    writeLines(file, text);
    expect((await verifyChain(file)).broken).toMatchObject({ file, line: 3, reason: expect.stringMatching(/hash does not match/) });
  });

  it('an edited line whose hash was recomputed (plain SHA-256) breaks the next line\'s prev', async () => {
    const file = tempLog();
    await writeEvents(file, 5);
    const { createHash } = await import('node:crypto');
    const text = lines(file);
    const record = JSON.parse(text[1] as string) as Record<string, unknown>;
    delete record.hash;
    record.uid = 'someone-else';
    const unsigned = JSON.stringify(record);
    text[1] = `${unsigned.slice(0, -1)},"hash":"${createHash('sha256').update(unsigned).digest('hex')}"}`;
    writeLines(file, text);
    expect((await verifyChain(file)).broken).toMatchObject({ line: 3, reason: expect.stringMatching(/"prev"/) });
  });

  it('a deleted line, and two lines swapped, are named where the order breaks', async () => {
    const file = tempLog();
    await writeEvents(file, 6);
    const original = lines(file);
    writeLines(file, original.filter((_l, i) => i !== 3));
    expect((await verifyChain(file)).broken).toMatchObject({ line: 4, reason: expect.stringMatching(/seq 5 where 4 was expected/) });
    const swapped = [...original];
    [swapped[1], swapped[2]] = [swapped[2] as string, swapped[1] as string];
    writeLines(file, swapped);
    expect((await verifyChain(file)).broken).toMatchObject({ line: 2, reason: expect.stringMatching(/seq 3 where 2 was expected/) });
    const firstGone = original.slice(1);
    writeLines(file, firstGone);
    expect((await verifyChain(file)).broken).toMatchObject({ line: 1, reason: expect.stringMatching(/seq 2 where 1/) });
  });

  it('a removed last line, a last line cut short, and a replaced last line are caught through the head file', async () => {
    const file = tempLog();
    await writeEvents(file, 4);
    const original = lines(file);
    writeLines(file, original.slice(0, 3));
    expect((await verifyChain(file)).broken).toMatchObject({ file, line: 4, reason: expect.stringMatching(/ends at seq 4, the log ends at seq 3/) });
    writeFileSync(file, `${original.slice(0, 3).join('\n')}\n${(original[3] as string).slice(0, 40)}`);
    expect((await verifyChain(file)).broken).toMatchObject({ file, line: 4, reason: expect.stringMatching(/cut short or edited/) });
    // Seq 4 replaced by a valid-looking line of another chain: its own hash holds, its prev does not.
    const other = tempLog();
    await writeEvents(other, 4, { start: 100 });
    writeLines(file, [...original.slice(0, 3), lines(other)[3] as string]);
    expect((await verifyChain(file)).broken).toMatchObject({ line: 4, reason: expect.stringMatching(/"prev"/) });
    // The whole file emptied: the head still says 4.
    writeFileSync(file, '');
    expect((await verifyChain(file)).broken).toMatchObject({ line: 1, reason: expect.stringMatching(/ends at seq 4, the log ends at seq 0/) });
    // And a missing head is itself a finding (unless --no-head).
    writeLines(file, original);
    expect((await verifyChain(file)).ok).toBe(true);
    writeFileSync(`${file}.head`, '');
    expect((await verifyChain(file)).broken?.reason).toMatch(/head file is not/);
    expect((await verifyChain(file, { noHead: true })).ok).toBe(true);
  });

  it('an HMAC chain verifies only with its key; the right key catches an edit the attacker re-hashed', async () => {
    const file = tempLog();
    await writeEvents(file, 3, { hmacKey: KEY });
    expect((await verifyChain(file, { hmacKey: KEY })).ok).toBe(true);
    expect((await verifyChain(file)).broken).toMatchObject({ line: 1, reason: expect.stringMatching(/AUDIT_HMAC_KEY_FILE/) });
    expect((await verifyChain(file, { hmacKey: Buffer.from('x'.repeat(40)) })).broken).toMatchObject({ line: 1, reason: expect.stringMatching(/another key/) });
    // A forger without the key rebuilds the whole chain and head with SHA-256: the key-holder's verify refuses line 1.
    const forged = tempLog();
    await writeEvents(forged, 3);
    expect((await verifyChain(forged, { hmacKey: KEY })).broken).toMatchObject({ line: 1 });
  });

  it('rotation by size keeps one chain across files; none is deleted; a restart continues it', async () => {
    const file = tempLog();
    const writer = await writeEvents(file, 20, { maxBytes: 1200 });
    const dir = path.dirname(file);
    const rotated = readdirSync(dir).filter((n) => /^audit\.log\.\d+$/.test(n)).sort();
    expect(rotated.length).toBeGreaterThanOrEqual(3);
    for (const name of [...rotated, 'audit.log']) expect(statSync(path.join(dir, name)).size).toBeLessThanOrEqual(1200);
    const result = await verifyChain(file);
    expect(result).toMatchObject({ ok: true, lines: 20, lastSeq: 20 });
    expect(result.files).toHaveLength(rotated.length + 1);
    // The first line of each new file chains to the last line of the file before.
    const firstOf2 = JSON.parse(lines(path.join(dir, 'audit.log.2'))[0] as string) as { prev: string };
    const lastOf1 = JSON.parse(lines(path.join(dir, 'audit.log.1')).pop() as string) as { hash: string };
    expect(firstOf2.prev).toBe(lastOf1.hash);
    expect(writer.status().lastSeq).toBe(20);
    // A new writer (a restart) resumes at seq 21.
    await writeEvents(file, 5, { maxBytes: 1200, start: 20 });
    expect(await verifyChain(file)).toMatchObject({ ok: true, lines: 25, lastSeq: 25 });
    // An edit in a rotated file names that file.
    const second = path.join(dir, 'audit.log.2');
    const text = lines(second);
    text[0] = (text[0] as string).replace('"uid":"user-', '"uid":"USER-');
    writeLines(second, text);
    expect((await verifyChain(file)).broken).toMatchObject({ file: second, line: 1 });
  });

  it('older rotated files deleted on purpose: broken without --pruned (with the hint), checked from the oldest file left with it', async () => {
    const file = tempLog();
    await writeEvents(file, 20, { maxBytes: 1200 });
    const dir = path.dirname(file);
    const oldest = path.join(dir, 'audit.log.1');
    const removed = lines(oldest).length;
    rmSync(oldest);
    const strict = await verifyChain(file);
    expect(strict.broken).toMatchObject({ file: path.join(dir, 'audit.log.2'), line: 1, reason: expect.stringContaining('--pruned') });
    const pruned = await verifyChain(file, { pruned: true });
    expect(pruned).toMatchObject({ ok: true, firstSeq: removed + 1, lastSeq: 20, lines: 20 - removed });
    // Everything after the first line left is still checked: an edit, or a line removed, is caught.
    const second = path.join(dir, 'audit.log.2');
    const text = lines(second);
    writeLines(second, [text[0] as string, ...text.slice(2)]);
    expect((await verifyChain(file, { pruned: true })).broken).toMatchObject({ file: second, line: 2, reason: expect.stringMatching(/^seq \d+ where \d+ was expected/) });
  });

  it('a restart after the log was cut does not heal it: the chain goes on from the head, and says so', async () => {
    const file = tempLog();
    await writeEvents(file, 4);
    writeLines(file, lines(file).slice(0, 2));
    const logs = new LogCapture();
    const writer = new ChainWriter({ file, includeEmail: false, maxBytes: 0, clock: Date.now, logger: pino(logs), autoFlush: false });
    writer.record({ event: 'after.restart' });
    expect(await writer.flush()).toBe(true);
    expect(logs.text).toMatch(/does not match its head file/);
    const after = lines(file).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(after.slice(2).map((l) => [l.seq, l.event])).toEqual([
      [5, 'audit.head_mismatch'],
      [6, 'after.restart'],
    ]);
    expect((await verifyChain(file)).broken).toMatchObject({ line: 3, reason: expect.stringMatching(/seq 5 where 3/) });
  });

  it('a crash between the append and the head update (the head one batch behind) resumes cleanly', async () => {
    const file = tempLog();
    await writeEvents(file, 2);
    const head = readFileSync(`${file}.head`, 'utf8');
    await writeEvents(file, 2, { start: 2 });
    writeFileSync(`${file}.head`, head); // as if the process died before writing the head
    expect((await verifyChain(file)).broken?.reason).toMatch(/lines after seq 2/);
    await writeEvents(file, 1, { start: 4 });
    expect(await verifyChain(file)).toMatchObject({ ok: true, lastSeq: 5 });
  });

  it('a failed head write is reported and retried even when no new event comes', async () => {
    const file = tempLog();
    let headFails = true;
    const fs = {
      ...nodeAuditFs,
      async writeAtomic(target: string, text: string) {
        if (headFails) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
        await nodeAuditFs.writeAtomic(target, text);
      },
    };
    const writer = new ChainWriter({ file, includeEmail: false, maxBytes: 0, clock: Date.now, logger: silent, fs, autoFlush: false });
    writer.record({ event: 'one' });
    expect(await writer.flush()).toBe(false);
    expect(writer.status()).toMatchObject({ writable: false, error: 'ENOSPC', pending: 0, lastSeq: 1 });
    expect((await verifyChain(file)).broken?.reason).toMatch(/head file is missing/);
    headFails = false;
    expect(await writer.flush()).toBe(true);
    expect(writer.status().writable).toBe(true);
    expect(await verifyChain(file)).toMatchObject({ ok: true, lines: 1 });
  });

  it('never writes a token, code or key field, nor an email unless asked; strings are capped', () => {
    const event = {
      event: 'x',
      idToken: 'eyJ...',
      serverAuthCode: '4/0abc',
      code: '123456',
      refreshToken: 'r',
      accessToken: 'a',
      privateKey: '-----BEGIN',
      secret: 's',
      email: 'ada@example.com',
      uid: 'u'.repeat(2000),
      seq: 99,
      prev: 'f'.repeat(64),
      ok: true,
    };
    expect(sanitizeAuditEvent(event, false)).toEqual({ event: 'x', uid: 'u'.repeat(512), ok: true });
    expect(sanitizeAuditEvent(event, true)).toMatchObject({ email: 'ada@example.com' });
  });

  it('a log in the format before the chain (the keys script\'s) is kept aside and a new chain starts', async () => {
    const file = tempLog();
    const { mkdirSync, rmSync } = await import('node:fs');
    mkdirSync(path.dirname(file));
    writeFileSync(file, `${JSON.stringify({ time: 't', command: 'list', who: 'alice', outcome: 'ok' })}\n`);
    rmSync(`${file}.head`, { force: true });
    await writeEvents(file, 2);
    expect(readFileSync(`${file}.pre-chain`, 'utf8')).toMatch(/"command":"list"/);
    expect(await verifyChain(file)).toMatchObject({ ok: true, lines: 2 });
  });
});
