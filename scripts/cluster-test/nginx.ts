/** nginx as the cluster test's load balancer: its own prefix, config, pid, logs and temp paths, loopback only. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const NGINX_BINARY = process.env.NGINX_BINARY ?? '/usr/sbin/nginx';

/**
 * The config: one upstream of the instances with `max_fails` (a dead instance is skipped for fail_timeout),
 * idempotent requests retried on the next instance when one fails (nginx never retries a POST it already
 * sent), the client's X-Forwarded-For extended (the bridges trust loopback), and the instance that answered
 * in X-Upstream (so the runner knows which requests were in flight on the killed one).
 */
export function nginxConfig(dir: string, listenPort: number, upstreamPorts: readonly number[]): string {
  const servers = upstreamPorts.map((port) => `    server 127.0.0.1:${port} max_fails=1 fail_timeout=2s;`).join('\n');
  const temp = (name: string) => path.join(dir, 'temp', name);
  return `worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${temp('client_body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  upstream firebridge {
${servers}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://firebridge;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_connect_timeout 1s;
      proxy_read_timeout 10s;
      proxy_next_upstream error timeout http_502;
      proxy_next_upstream_tries 3;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`;
}

export interface Nginx {
  url: string;
  errorLog(): string;
  stop(): Promise<void>;
}

export async function startNginx(dir: string, listenPort: number, upstreamPorts: readonly number[]): Promise<Nginx> {
  mkdirSync(path.join(dir, 'temp'), { recursive: true });
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, listenPort, upstreamPorts));
  const child: ChildProcess = spawn(NGINX_BINARY, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${listenPort}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}`);
    const up = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(500) }).then(
      (res) => res.status === 200,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not answer within 10 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    errorLog: () => {
      try {
        return readFileSync(path.join(dir, 'error.log'), 'utf8');
      } catch {
        return '';
      }
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      rmSync(path.join(dir, 'temp'), { recursive: true, force: true });
    },
  };
}
