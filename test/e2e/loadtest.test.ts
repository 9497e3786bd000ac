/**
 * `npm run loadtest` in a tiny configuration (4 clients, 4 s): the whole scenario (rotation, 503
 * window, drop, hang window) runs, no valid request fails and no invalid one succeeds.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

function runLoadtest(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/loadtest/run.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => {
    // Bounded: the script stops itself after --duration; this only guards against a hang.
    const timer = setTimeout(() => child.kill('SIGINT'), 25_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('npm run loadtest (tiny)', () => {
  it('4 clients for 4 s through rotations and outages: exit 0 and a PASS summary', async () => {
    const { code, output } = await runLoadtest(['--clients', '4', '--duration', '4', '--think-ms', '5']);
    if (code !== 0) throw new Error(`loadtest exited ${code}:\n${output}`);
    expect(output).toMatch(/loadtest: PASS requests=\d+ valid_ok=[1-9]\d* valid_failed=0 invalid_refused=[1-9]\d* invalid_accepted=0 invalid_5xx=0 /);
    expect(output).toMatch(/rotation: the bridge accepts tokens of the new keys/);
    expect(output).toMatch(/outage: the fake answers every key-set fetch with HTTP 503/);
    expect(output).toMatch(/bridge stopped \(code 0\)/);
  }, 30_000);

  it('refuses a bad option with a usage message (exit 2)', async () => {
    const { code, output } = await runLoadtest(['--clients', 'many']);
    expect(code).toBe(2);
    expect(output).toMatch(/usage: npm run loadtest/);
  });
});
