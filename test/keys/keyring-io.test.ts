import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KeyFileSigner } from '../../src/keys/key-file-signer';
import { MAX_KEY_FILE_BYTES, loadKeyring, readKeyFile, readKeyFileSync } from '../../src/keys/keyring';
import { KeyringWatcher } from '../../src/keys/keyring-watcher';
import { createLogger } from '../../src/logger';
import { FakeGoogle, type TestServiceAccount } from '../../testkit/fake-google';
import { LogCapture, keysDirWith } from '../../testkit/harness';
import { keysCli } from '../../testkit/keys-cli';

// The modules src/ calls at run time (CommonJS under jest), so spies see every open and read.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require('node:fs') as typeof import('node:fs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fsp = require('node:fs/promises') as typeof import('node:fs/promises');

/** Counts every open or whole-file read of a path under `prefix`, sync or async, while it is installed. */
function countFileAccess(prefix: string): { count: () => number; paths: string[]; restore: () => void } {
  const paths: string[] = [];
  const spies = (
    [
      [fs, 'openSync'],
      [fs, 'readFileSync'],
      [fsp, 'open'],
      [fsp, 'readFile'],
    ] as Array<[Record<string, unknown>, string]>
  ).map(([module, name]) => {
    const original = module[name] as (...args: unknown[]) => unknown;
    return jest.spyOn(module as Record<string, (...args: unknown[]) => unknown>, name).mockImplementation((...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith(prefix)) paths.push(args[0]);
      return original.apply(module, args);
    });
  });
  return { count: () => paths.length, paths, restore: () => spies.forEach((spy) => spy.mockRestore()) };
}

/** The longest the event loop went without running a 5 ms timer while `work` ran. */
async function longestStall(work: () => Promise<unknown>): Promise<{ stallMs: number; result: unknown }> {
  let last = Date.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  try {
    const result = await work();
    await new Promise((r) => setTimeout(r, 30));
    stallMs = Math.max(stallMs, Date.now() - last);
    return { stallMs, result };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Feeds a FIFO: up to 20 times, waits 500 ms, then opens it for writing (which waits for a reader)
 * and writes "{}". Code that blocks reading the FIFO is so released after 500 ms (and the stall
 * shows) instead of hanging the test for ever. Code that never opens it leaves the writer waiting
 * in its open; it is killed (with its sleep) after the test.
 */
const FEED_FIFO = 'i=0; while [ $i -lt 20 ]; do sleep 0.5; printf "{}" > "$0"; i=$((i+1)); done';

function fifoWriter(fifo: string): ChildProcess {
  return spawn('sh', ['-c', FEED_FIFO, fifo], { stdio: 'ignore', detached: true });
}

/** A FIFO outside KEYS_DIR (the attack: KEYS_DIR/x.json is a symlink to it), with its writer. */
function fifoWithLateWriter(): { fifo: string; writer: ChildProcess } {
  const fifo = path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-fifo-')), 'pipe');
  execFileSync('mkfifo', [fifo]);
  return { fifo, writer: fifoWriter(fifo) };
}

function stop(writer: ChildProcess): void {
  if (writer.pid !== undefined && writer.exitCode === null) {
    try {
      process.kill(-writer.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

describe('KEYS_DIR reads never block the event loop', () => {
  let fake: FakeGoogle;
  let first: TestServiceAccount;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    first = fake.createServiceAccount();
  });
  afterAll(() => fake.close());

  function watch(dir: string) {
    const logs = new LogCapture();
    const initial = loadKeyring(dir, fake.projectId);
    const signer = new KeyFileSigner(initial.active.key);
    const watcher = new KeyringWatcher({ dir, projectId: fake.projectId, signer, logger: createLogger('info', logs), initial, pollIntervalMs: 0 });
    return { watcher, signer, logs };
  }

  it('a FIFO named x.json (a symlink to a FIFO): a reload does not block and reports it as not a regular file', async () => {
    const dir = keysDirWith(first);
    const { watcher, signer, logs } = watch(dir);
    const { fifo, writer } = fifoWithLateWriter();
    try {
      symlinkSync(fifo, path.join(dir, 'x.json'));
      const { stallMs, result } = await longestStall(() => watcher.reload('poll'));
      expect(result).toBe('rejected');
      expect(stallMs).toBeLessThan(250);
      expect(logs.text).toMatch(/x\.json: is not a regular file \(a FIFO\)/);
      expect(signer.currentKey()?.privateKeyId).toBe(first.key.kid);
      // A forced reload (SIGHUP) says so again, still without blocking.
      const forced = await longestStall(() => watcher.reload('SIGHUP', true));
      expect(forced.result).toBe('rejected');
      expect(forced.stallMs).toBeLessThan(250);
    } finally {
      stop(writer);
    }
  });

  it('a FIFO itself named x.json: the start-up load (synchronous) refuses it at once, as not a regular file', () => {
    const dir = keysDirWith(first);
    const { writer } = (() => {
      const fifo = path.join(dir, 'x.json');
      execFileSync('mkfifo', [fifo]);
      return { writer: fifoWriter(fifo) };
    })();
    try {
      const started = Date.now();
      expect(() => loadKeyring(dir, fake.projectId)).toThrow(/x\.json: is not a regular file \(a FIFO\)/);
      expect(Date.now() - started).toBeLessThan(250);
    } finally {
      stop(writer);
    }
  });

  it('a FIFO opened directly (the check after open): readKeyFile and readKeyFileSync refuse it without waiting for a writer', async () => {
    const { fifo, writer } = fifoWithLateWriter();
    try {
      const started = Date.now();
      expect(() => readKeyFileSync(fifo)).toThrow(/is not a regular file \(a FIFO\)/);
      const { stallMs } = await longestStall(() => expect(readKeyFile(fifo)).rejects.toThrow(/is not a regular file \(a FIFO\)/));
      expect(stallMs).toBeLessThan(250);
      expect(Date.now() - started).toBeLessThan(400);
    } finally {
      stop(writer);
    }
  });

  it('the keys CLI applies the same checks: a FIFO in KEYS_DIR or given to rotate --from is refused at once', async () => {
    const dir = keysDirWith(first);
    const { fifo, writer } = fifoWithLateWriter();
    try {
      symlinkSync(fifo, path.join(dir, 'x.json'));
      const started = Date.now();
      const list = await keysCli(['list'], { KEYS_DIR: dir, FIREBASE_PROJECT_ID: fake.projectId });
      expect(list.code).toBe(1);
      expect(list.stderr.join('\n')).toMatch(/x\.json: is not a regular file \(a FIFO\)/);
      const clean = keysDirWith(first);
      const rotate = await keysCli(['rotate', '--from', fifo], { KEYS_DIR: clean, FIREBASE_PROJECT_ID: fake.projectId });
      expect(rotate.code).toBe(1);
      expect(rotate.stderr.join('\n')).toMatch(/refused, nothing changed: .*is not a regular file \(a FIFO\)/);
      expect(Date.now() - started).toBeLessThan(400);
    } finally {
      stop(writer);
    }
  });

  it('a 200 MB (sparse) *.json is refused by its size without being read, at start and on reload', async () => {
    const dir = keysDirWith(first);
    const { watcher, logs } = watch(dir);
    const big = path.join(dir, 'big.json');
    writeFileSync(big, '');
    truncateSync(big, 200 * 1024 * 1024);
    const access = countFileAccess(big);
    try {
      const { stallMs, result } = await longestStall(() => watcher.reload('poll'));
      expect(result).toBe('rejected');
      expect(stallMs).toBeLessThan(250);
      expect(logs.text).toMatch(/big\.json: is 209715200 bytes, over the 64 KiB limit of a key file; not read/);
      expect(() => loadKeyring(dir, fake.projectId)).toThrow(/big\.json: is 209715200 bytes, over the 64 KiB limit/);
      expect(access.paths).toEqual([]); // never opened, never read
    } finally {
      access.restore();
    }
  });

  it('a file just over 64 KiB is refused; the limit is what a key file can never reach', async () => {
    const dir = keysDirWith(first);
    writeFileSync(path.join(dir, 'padded.json'), JSON.stringify({ ...first.json, padding: 'x'.repeat(MAX_KEY_FILE_BYTES) }));
    expect(() => loadKeyring(dir, fake.projectId)).toThrow(/padded\.json: is \d+ bytes, over the 64 KiB limit/);
    expect(JSON.stringify(first.json).length).toBeLessThan(MAX_KEY_FILE_BYTES / 16);
  });

  it('an unchanged directory is not re-read: a poll only looks at metadata (name, size, mtime, inode, mode)', async () => {
    const dir = keysDirWith(first);
    const { watcher } = watch(dir);
    const access = countFileAccess(dir);
    try {
      for (let i = 0; i < 5; i += 1) expect(await watcher.reload('poll')).toBe('unchanged');
      expect(access.count()).toBe(0);
      // A change of metadata (here a new file) is read, once.
      const next = fake.createServiceAccount();
      writeFileSync(path.join(dir, `${next.key.kid}.json`), JSON.stringify(next.json), { mode: 0o600 });
      expect(await watcher.reload('poll')).toBe('reloaded');
      const afterChange = access.count();
      expect(afterChange).toBeGreaterThan(0);
      expect(await watcher.reload('poll')).toBe('unchanged');
      expect(access.count()).toBe(afterChange);
      // A mode change (chmod) is a change too: the directory is read again.
      fs.chmodSync(path.join(dir, `${next.key.kid}.json`), 0o640);
      expect(await watcher.reload('poll')).toBe('reloaded');
      expect(access.count()).toBeGreaterThan(afterChange);
    } finally {
      access.restore();
    }
  });

  it('reloads requested while one runs are merged into one more (a burst of events never piles up reads)', async () => {
    const dir = keysDirWith(first);
    const { watcher } = watch(dir);
    const access = countFileAccess(dir);
    try {
      const outcomes = await Promise.all([
        watcher.reload('SIGHUP', true),
        ...Array.from({ length: 20 }, () => watcher.reload('watch', true)),
      ]);
      expect(outcomes.every((o) => o === 'reloaded')).toBe(true);
      // One key file read by the first reload and once more by the merged one: two opens, not 21.
      expect(access.paths.filter((p) => p.endsWith(`${first.key.kid}.json`))).toHaveLength(2);
    } finally {
      access.restore();
    }
  });
});
