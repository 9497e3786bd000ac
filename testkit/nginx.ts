import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Where Debian's package puts nginx; else whatever `command -v nginx` finds. */
export function nginxBinary(): string | undefined {
  if (existsSync('/usr/sbin/nginx')) return '/usr/sbin/nginx';
  try {
    const found = execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim();
    return found === '' ? undefined : found;
  } catch {
    return undefined;
  }
}

/** A TCP port free on 127.0.0.1 right now (nginx takes a fixed port; a race with another process is unlikely). */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface RunningNginx {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** The error log so far (for a failing assertion's message). */
  errorLog(): string;
  /** Stops nginx (SIGQUIT, then SIGKILL) and removes its prefix directory. */
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** The `server { ... }` blocks (and upstreams) to load inside `http { }`. */
  site: string;
  /** The loopback port the site listens on (the site's `listen` must name 127.0.0.1:<port>). */
  port: number;
  /** Files to copy into the prefix (e.g. the examples' snippets/ folder), relative to it. */
  copy?: Record<string, string>;
}

const NOBODY = 65534;

function waitForPort(port: number, deadline: number, child: ChildProcess, log: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) {
        reject(new Error(`nginx exited with ${child.exitCode}:\n${log()}`));
        return;
      }
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nginx did not listen on ${port}:\n${log()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * Runs nginx as this test's own process: its own prefix, config, pid file, logs and temp paths in a fresh temp
 * folder, listening on a loopback port, in the foreground (`daemon off`), one worker. Run by root (CI), it
 * runs as nobody: never a privileged server. Never the system service, never its config.
 */
export async function startNginx(options: NginxOptions): Promise<RunningNginx> {
  const binary = nginxBinary();
  if (binary === undefined) throw new Error('nginx is not installed');
  const prefix = mkdtempSync(path.join(tmpdir(), 'firebridge-nginx-'));
  for (const [to, from] of Object.entries(options.copy ?? {})) cpSync(from, path.join(prefix, to), { recursive: true });
  for (const dir of ['logs', 'temp/client', 'temp/proxy', 'temp/fastcgi', 'temp/uwsgi', 'temp/scgi']) {
    mkdirSync(path.join(prefix, dir), { recursive: true });
  }
  const conf = `
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log info;
events { worker_connections 256; }
http {
    access_log ${prefix}/logs/access.log;
    client_body_temp_path ${prefix}/temp/client;
    proxy_temp_path ${prefix}/temp/proxy;
    fastcgi_temp_path ${prefix}/temp/fastcgi;
    uwsgi_temp_path ${prefix}/temp/uwsgi;
    scgi_temp_path ${prefix}/temp/scgi;
${options.site}
}
`;
  writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const chownAll = (target: string) => {
      chownSync(target, NOBODY, NOBODY);
      if (statSync(target).isDirectory()) for (const entry of readdirSync(target)) chownAll(path.join(target, entry));
    };
    chownAll(prefix);
  }
  let output = '';
  const child = spawn(binary, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'logs/error.log'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const errorLog = () => {
    let log = output;
    try {
      log += readFileSync(path.join(prefix, 'logs/error.log'), 'utf8');
    } catch {
      // not written yet
    }
    return log;
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(prefix, { recursive: true, force: true });
  };
  try {
    await waitForPort(options.port, Date.now() + 10_000, child, errorLog);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `http://127.0.0.1:${options.port}`, port: options.port, errorLog, stop };
}
