/**
 * Drives a server with wrk (an independent load generator in its own process) and reads the server's CPU time
 * from /proc/<pid>/stat around the run: req/s, latency percentiles from wrk's own distribution, server CPU per
 * request and cores used. Linux only (the benchmark's platform).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const SCRIPT = path.join(__dirname, 'wrk-pool.lua');
const THREADS = 2;

/** Exits with how to install wrk when it is missing (the benchmark does not install software). */
export function requireWrk(): void {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    process.stderr.write(
      'bench: wrk (the load generator) is not installed. On Debian/Ubuntu: sudo apt-get install wrk ' +
        '(macOS: brew install wrk; elsewhere build it from https://github.com/wg/wrk).\n',
    );
    process.exit(2);
  }
}

/** utime + stime of a process, all its threads (libuv's pool included), in seconds; with `mainThread`, its main thread's only. */
export function cpuSeconds(pid: number, mainThread = false): number {
  const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of proc(5), counted from 3
  return ticks / CLOCK_TICKS;
}

const CLOCK_TICKS = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(out.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** Resident set size of a process, in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

export interface WrkTarget {
  /** Full URL of the route. */
  url: string;
  /** The server's pid, for its CPU time. */
  pid: number;
  mode: 'static' | 'bearer' | 'exchange';
  /** static: extra headers (e.g. one Authorization repeated). */
  headers?: Record<string, string>;
  /** bearer/exchange: the token file, the first line to use, how many lines at most. */
  file?: string;
  offset?: number;
  limit?: number;
}

export interface WrkResult {
  rps: number;
  requests: number;
  seconds: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Responses that were not 2xx/3xx, and socket errors and timeouts. */
  non2xx: number;
  errors: number;
  /** Server CPU milliseconds per request, and cores used (server CPU seconds per wall second). */
  cpuMsPerRequest: number;
  /** The main thread's (the event loop's) share: what limits a server whose other work went to the pool. */
  mainCpuMsPerRequest: number;
  cores: number;
  /** Tokens consumed (the next run's offset moves by this) and requests that reused a token of this run. */
  consumed: number;
  reused: number;
}

export async function runWrk(target: WrkTarget, seconds: number, connections: number): Promise<WrkResult> {
  const args = ['-t', String(THREADS), '-c', String(connections), '-d', `${seconds}s`, '--latency', '--timeout', '10s'];
  for (const [name, value] of Object.entries(target.headers ?? {})) args.push('-H', `${name}: ${value}`);
  args.push('-s', SCRIPT, target.url, '--', target.mode, target.file ?? '-', String(target.offset ?? 0), String(target.limit ?? 0), String(THREADS));
  const cpuBefore = cpuSeconds(target.pid);
  const mainBefore = cpuSeconds(target.pid, true);
  const started = process.hrtime.bigint();
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = cpuSeconds(target.pid) - cpuBefore;
  const mainCpu = cpuSeconds(target.pid, true) - mainBefore;
  const line = /WRKJSON (\{.*\})/.exec(out);
  if (code !== 0 || !line) throw new Error(`wrk failed (${code}) on ${target.url}:\n${out}`);
  const r = JSON.parse(line[1] as string) as Record<string, number>;
  const requests = r.requests as number;
  const measured = (r.durationUs as number) / 1e6;
  return {
    rps: requests / measured,
    requests,
    seconds: measured,
    p50Ms: (r.p50 as number) / 1000,
    p90Ms: (r.p90 as number) / 1000,
    p99Ms: (r.p99 as number) / 1000,
    non2xx: r.status as number,
    errors: (r.connect as number) + (r.read as number) + (r.write as number) + (r.timeout as number),
    // CPU is read around the whole wrk process; the server idles while wrk loads its token file, so cores are
    // taken over wrk's measured duration (the run's last in-flight requests make this a slight overestimate).
    cpuMsPerRequest: (cpu * 1000) / requests,
    mainCpuMsPerRequest: (mainCpu * 1000) / requests,
    cores: cpu / Math.min(wall, measured),
    consumed: THREADS * (r.mostPerThread as number) + connections,
    reused: r.reused as number,
  };
}

/** The median of some numbers. */
export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
