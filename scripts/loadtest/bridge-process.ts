/** Runs the bridge (src/main.ts) in its own process on 127.0.0.1 for the load test. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

export interface BridgeProcess {
  child: ChildProcess;
  url: string;
  /** Log lines by level and message (LOG_LEVEL=warn: warnings and errors only). */
  logCounts: Map<string, number>;
  /** The last lines the bridge wrote, for diagnostics. */
  tail(): string[];
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (or signal). */
  stop(graceMs?: number): Promise<string>;
}

/** A free TCP port on 127.0.0.1 (there is a tiny race until the bridge binds it; fine on loopback). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** `port`: a given one (the cluster test restarts an instance where the load balancer expects it); else a free one. */
/** `onSpawn` sees the child at once, before it is ready (so a runner interrupted meanwhile can stop it). */
export async function startBridge(
  env: Record<string, string>,
  readyTimeoutMs = 20_000,
  port?: number,
  onSpawn?: (child: ChildProcess) => void,
): Promise<BridgeProcess> {
  port ??= await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    // A clean environment: only what the load test sets (plus PATH), listening on loopback only.
    env: { PATH: process.env.PATH ?? '', ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onSpawn?.(child);
  const url = `http://127.0.0.1:${port}`;
  const logCounts = new Map<string, number>();
  const lines: string[] = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (line === '') continue;
      lines.push(line.length > 500 ? `${line.slice(0, 500)}...` : line);
      if (lines.length > 60) lines.shift();
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string };
        const key = `${LEVELS[entry.level ?? 0] ?? entry.level}: ${entry.msg ?? '?'}`;
        logCounts.set(key, (logCounts.get(key) ?? 0) + 1);
      } catch {
        logCounts.set('non-JSON output', (logCounts.get('non-JSON output') ?? 0) + 1);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exitInfo: string | undefined;
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `code ${code}`;
      resolve(exitInfo);
    }),
  );

  // Ready when /readyz answers 200 (signing key loaded); key sets are warmed before it listens.
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exitInfo !== undefined) throw new Error(`the bridge exited (${exitInfo}) before it was ready:\n${lines.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the bridge was not ready within ${readyTimeoutMs} ms:\n${lines.join('\n')}`);
    }
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  let stopping: Promise<string> | undefined;
  return {
    child,
    url,
    logCounts,
    tail: () => [...lines],
    stop(graceMs = 5000) {
      stopping ??= (async () => {
        if (exitInfo !== undefined) return exitInfo;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const info = await exited;
        clearTimeout(timer);
        return info;
      })();
      return stopping;
    },
  };
}
