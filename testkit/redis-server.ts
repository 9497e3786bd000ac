import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A free TCP port on 127.0.0.1 (a tiny race until the server binds it; fine on loopback). */
export function freePort(): Promise<number> {
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

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether something answers PING with +PONG on the port (raw RESP, no client library). */
export function pingPort(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/**
 * A redis-server of its own, on 127.0.0.1 and a free port, in a temp dir, without persistence (a restart
 * loses everything, as a Redis without AOF/RDB does): `restart()` stops and starts it on the same port.
 * `sentinel()` starts a Sentinel (redis-server --sentinel) monitoring it as master group `name`.
 */
export class OwnRedis {
  private child: ChildProcess | undefined;
  private readonly extra: ChildProcess[] = [];

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort(), mkdtempSync(path.join(tmpdir(), 'firebridge-redis-')));
    await redis.startProcess();
    return redis;
  }

  private async startProcess(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no'];
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    const child = this.child;
    await waitFor(() => pingPort(this.port), 10_000, `redis-server did not answer on ${this.port}`).catch((err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    });
  }

  /** Stops it (SIGKILL: as a crash; everything in it is lost). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.startProcess();
  }

  /** A Sentinel on a free port monitoring this server as `name` (quorum 1); resolves with its port. */
  async sentinel(name: string): Promise<number> {
    const port = await freePort();
    const conf = path.join(this.dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [`port ${port}`, 'bind 127.0.0.1', `dir ${this.dir}`, `sentinel monitor ${name} 127.0.0.1 ${this.port} 1`, ''].join('\n'),
    );
    const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    this.extra.push(child);
    await waitFor(() => pingPort(port), 10_000, `redis sentinel did not answer on ${port}`);
    return port;
  }

  async close(): Promise<void> {
    for (const child of this.extra) if (child.exitCode === null) child.kill('SIGKILL');
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
