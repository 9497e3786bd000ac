/**
 * HTTP benchmark: firebridge and its peers, each server in its own process on 127.0.0.1, driven by wrk (an
 * independent load generator, its own process) in interleaved rounds; the server's CPU per request read from
 * /proc/<pid>/stat, latency percentiles from wrk's own distribution. Peers (bench/peer-server.ts): a bare express 5
 * route, an express + jose jwtVerify route on a remote JWKS, a jose minimal exchange (async signing), a
 * firebase-admin verifyIdToken route; and on firebridge's own bench server (bench/server.ts) the same exchange
 * signing with firebase-admin. The fake Google (testkit/fake-google.ts) runs here; firebase-admin reaches it
 * through a loopback TLS relay.
 *   node --import tsx bench/http.ts [--seconds 3] [--connections 64] [--rounds 5] [--threadpool 4]
 *        [--fb-tokens 200000] [--google-tokens 90000] [--only table,saturation,burst,cold]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeGoogle } from '../testkit/fake-google';
import { WEB_CLIENT_ID, configuredEnv, keysDirWith } from '../testkit/harness';
import { spawnServer } from '../testkit/spawn-server';
import { type Row, firebaseIdTokens, fmt, googleIdTokens, printRows } from './common';
import { compileForBench } from './compiled';
import { startGoogleTls } from './google-tls';
import { type WrkResult, type WrkTarget, median, requireWrk, rssBytes, runWrk } from './wrk';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const SECONDS = arg('seconds', 3);
const CONNECTIONS = arg('connections', 64);
const ROUNDS = arg('rounds', 5);
/** UV_THREADPOOL_SIZE of every server process (Node's default is 4). */
const THREADPOOL = arg('threadpool', 4);
/** Never-seen Firebase ID tokens (each sent to firebridge at most once) and Google ID tokens for exchanges. */
const FB_TOKENS = arg('fb-tokens', 200_000);
const GOOGLE_TOKENS = arg('google-tokens', 90_000);
/** The cache-full case: entries made before its rounds (the default VERIFIED_TOKEN_CACHE_MAX_ENTRIES), hot tokens. */
const FILL = 10_000;
const HOT = 4;
const onlyArg = process.argv.indexOf('--only');
const ONLY = new Set(onlyArg >= 0 ? (process.argv[onlyArg + 1] as string).split(',') : ['table', 'saturation', 'burst', 'cold']);
/** --cases exchange,joseExchange: only these rows of the table (for a quick look; the targets need every row). */
const casesArg = process.argv.indexOf('--cases');
const CASES = casesArg >= 0 ? new Set((process.argv[casesArg + 1] as string).split(',')) : undefined;
const ROOT = path.resolve(__dirname, '..');

interface BenchServer {
  child: ChildProcess;
  pid: number;
  url: string;
  readyMs: number;
  startedAt: number;
  stop(): Promise<void>;
}

/** Where the compiled servers are (bench/compiled.ts): set once main() compiled them. */
let compiled: (entryPoint: string) => string = () => {
  throw new Error('the bench servers are not compiled yet');
};

function startServer(script: string, env: Record<string, string>): Promise<BenchServer> {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [compiled(script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', UV_THREADPOOL_SIZE: String(THREADPOOL), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start:\n${out}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /\{"url":"(http:\/\/[^"]+)","readyMs":(\d+),"msg":"listening"\}/.exec(out);
      if (match) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({
          child,
          pid: child.pid as number,
          url: match[1] as string,
          readyMs: Number(match[2]),
          startedAt,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${out}`));
    });
  });
}

function get(url: string, token: string, agent: Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(-1));
    req.end();
  });
}

/** Sends every token (in order, `concurrency` at a time) and returns how many answers were 200. */
async function sendAll(url: string, tokens: string[], concurrency: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  let ok = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tokens.length) {
        if ((await get(url, tokens[next++] as string, agent)) === 200) ok += 1;
      }
    }),
  );
  agent.destroy();
  return ok;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A token pool on disk for wrk, and where the next run starts in it (runs that must not repeat a token). */
class Pool {
  cursor = 0;
  constructor(
    readonly file: string,
    readonly size: number,
  ) {}
  /** A target taking the next unused tokens; advance() after the run. */
  fresh(url: string, pid: number, mode: 'bearer' | 'exchange'): WrkTarget {
    if (this.cursor + 1000 > this.size) {
      process.stdout.write(`WARNING: ${path.basename(this.file)} is used up: starting it again (repeated tokens; raise --fb-tokens/--google-tokens)\n`);
      this.cursor = 0;
    }
    return { url, pid, mode, file: this.file, offset: this.cursor, limit: this.size - this.cursor };
  }
  /** A target for a server that keeps no per-token state (any tokens will do: the pool from its start). */
  any(url: string, pid: number, mode: 'bearer' | 'exchange'): WrkTarget {
    return { url, pid, mode, file: this.file, offset: 0, limit: this.size };
  }
  advance(r: WrkResult): void {
    this.cursor += r.consumed;
  }
}

interface Case {
  key: string;
  label: string;
  target: () => WrkTarget;
  /** After each run (a fresh-token pool advances). */
  after?: (r: WrkResult) => void;
  /** Runs that sent a token twice are not "every token new": counted and reported. */
  mustNotReuse?: boolean;
}

async function main(): Promise<void> {
  requireWrk();
  process.stdout.write(
    `# HTTP benchmark (${new Date().toISOString()}, node ${process.version}, wrk, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS} s, ` +
      `every server UV_THREADPOOL_SIZE=${THREADPOOL})\n`,
  );
  const t0 = Date.now();
  compiled = compileForBench(['bench/server.ts', 'bench/peer-server.ts']);
  process.stdout.write(`compiled the servers with tsc (as npm run build does) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const fake = await FakeGoogle.start('bench-project-1');
  const tls = await startGoogleTls(fake.url);
  const account = fake.createServiceAccount();
  const keysDir = keysDirWith(account);
  const accountFile = path.join(keysDir, readdirSync(keysDir).find((f) => f.endsWith('.json')) as string);
  const work = mkdtempSync(path.join(tmpdir(), 'firebridge-bench-'));
  // One client IP sends everything: the per-IP exchange limit (abuse control, not capacity) is off. LOG_LEVEL=warn:
  // no line per request (the peers log nothing either; BENCHMARKS.md measures the line's cost).
  const env = { ...configuredEnv(fake, keysDir), LOG_LEVEL: 'warn', RATE_LIMIT_EXCHANGE_PER_MINUTE: '0' };
  const rows: Row[] = [];
  const servers: BenchServer[] = [];

  try {
    if (ONLY.has('cold')) {
      const cold: number[] = [];
      for (let i = 0; i < 2; i += 1) {
        const before = { g: fake.google.hits, s: fake.securetoken.hits };
        const t0 = Date.now();
        const server = await spawnServer({ ...env, LOG_LEVEL: 'info' }); // it waits for the info-level "listening" line
        cold.push(Date.now() - t0);
        const fetched = { g: fake.google.hits - before.g, s: fake.securetoken.hits - before.s };
        await server.stop();
        if (fetched.g !== 1 || fetched.s !== 1) throw new Error(`cold start fetched the key sets ${JSON.stringify(fetched)} times`);
      }
      const coldMs = Math.min(...cold);
      rows.push({ case: `cold start: spawn src/main.ts (tsx) to "listening", key sets fetched once each (runs: ${cold.join(', ')} ms)`, figure: `${coldMs} ms`, peer: '1000 ms', ratio: coldMs / 1000, target: '<1 s', pass: coldMs < 1000 });
    }

    const idToken = await fake.firebaseIdToken({
      sub: 'google:110169484474386276334',
      user_id: 'google:110169484474386276334',
      email: 'ada@example.com',
      email_verified: true,
      name: 'Ada Lovelace',
      picture: 'https://lh3.googleusercontent.com/a/ACg8ocJ4zX3y8YfQmVq0bM2n4Qe1S7kqZpRkX8u5Vf0=s96-c',
      google_sub: '110169484474386276334',
    });
    const auth = { Authorization: `Bearer ${idToken}` };
    const serverEnv = { ...env, BENCH_BODY_TOKEN: idToken, BENCH_TLS_PORT: String(tls.port), BENCH_TLS_CA: tls.caPem };
    const peerEnv = {
      BENCH_PROJECT_ID: fake.projectId,
      BENCH_BODY_TOKEN: idToken,
      BENCH_FIREBASE_JWKS_URL: fake.firebaseJwksUrl,
      BENCH_GOOGLE_JWKS_URL: fake.googleCertsUrl,
      BENCH_CLIENT_ID: WEB_CLIENT_ID,
      BENCH_SERVICE_ACCOUNT: accountFile,
      BENCH_TLS_PORT: String(tls.port),
      BENCH_TLS_CA: tls.caPem,
    };
    const fb = await startServer('bench/server.ts', serverEnv);
    servers.push(fb);
    process.stdout.write(`firebridge bench server ready ${fb.readyMs} ms after its start (compiled)\n`);

    if (ONLY.has('table') || ONLY.has('saturation')) {
      // Each is remembered as soon as it runs, so a failed start of another never leaves it behind.
      const started = (p: Promise<BenchServer>) => p.then((server) => (servers.push(server), server));
      const [full, bare, jose, joseExchange, admin] = await Promise.all([
        started(startServer('bench/server.ts', serverEnv)),
        started(startServer('bench/peer-server.ts', { ...peerEnv, BENCH_KIND: 'bare' })),
        started(startServer('bench/peer-server.ts', { ...peerEnv, BENCH_KIND: 'jose' })),
        started(startServer('bench/peer-server.ts', { ...peerEnv, BENCH_KIND: 'jose-exchange' })),
        started(startServer('bench/peer-server.ts', { ...peerEnv, BENCH_KIND: 'admin' })),
      ]);

      // Signed after the servers started: firebridge refuses Google ID tokens issued before its start (replay epoch).
      const t0 = Date.now();
      const fbPool = ONLY.has('table') ? await firebaseIdTokens(fake.securetoken.keys[0]!, fake.projectId, FILL + FB_TOKENS) : [];
      const googlePool = await googleIdTokens(fake.google.keys[0]!, WEB_CLIENT_ID, GOOGLE_TOKENS);
      process.stdout.write(`signed ${fbPool.length} Firebase and ${googlePool.length} Google ID tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      const write = (name: string, tokens: string[]) => {
        const file = path.join(work, name);
        writeFileSync(file, `${tokens.join('\n')}\n`);
        return file;
      };
      const fill = fbPool.slice(0, FILL);
      const hot = new Pool(write('hot.txt', fill.slice(0, HOT)), HOT);
      const fresh = new Pool(write('firebase-new.txt', fbPool.slice(FILL)), FB_TOKENS);
      const google = new Pool(write('google.txt', googlePool), GOOGLE_TOKENS);

      const cases: Case[] = [
        { key: 'bare', label: 'bare express route (same Authorization header, ignored)', target: () => ({ url: `${bare.url}/v1/me`, pid: bare.pid, mode: 'static', headers: auth }) },
        { key: 'hit', label: 'firebridge `GET /v1/me`, one token repeated (cache hit)', target: () => ({ url: `${fb.url}/v1/me`, pid: fb.pid, mode: 'static', headers: auth }) },
        { key: 'fullHit', label: `firebridge \`GET /v1/me\`, cache full (${fmt(FILL)} entries), ${HOT} hot tokens`, target: () => ({ ...hot.any(`${full.url}/v1/me`, full.pid, 'bearer') }) },
        { key: 'authz', label: 'firebridge `GET /v1/authz`, one token repeated', target: () => ({ url: `${fb.url}/v1/authz`, pid: fb.pid, mode: 'static', headers: auth }) },
        { key: 'joseHit', label: 'express + jose `jwtVerify`, one token repeated (no cache)', target: () => ({ url: `${jose.url}/v1/me`, pid: jose.pid, mode: 'static', headers: auth }) },
        { key: 'new', label: 'firebridge `GET /v1/me`, every token new', target: () => fresh.fresh(`${fb.url}/v1/me`, fb.pid, 'bearer'), after: (r) => fresh.advance(r), mustNotReuse: true },
        { key: 'joseNew', label: 'express + jose `jwtVerify`, every token new', target: () => fresh.any(`${jose.url}/v1/me`, jose.pid, 'bearer') },
        { key: 'adminNew', label: 'firebase-admin `verifyIdToken`, every token new', target: () => fresh.any(`${admin.url}/v1/me`, admin.pid, 'bearer') },
        { key: 'exchange', label: 'firebridge exchange (`POST /v1/token/google`)', target: () => google.fresh(`${fb.url}/v1/token/google`, fb.pid, 'exchange'), after: (r) => google.advance(r), mustNotReuse: true },
        { key: 'joseExchange', label: 'express + jose minimal exchange (async signing)', target: () => google.any(`${joseExchange.url}/v1/token/google`, joseExchange.pid, 'exchange') },
        { key: 'adminExchange', label: 'the same exchange signing with firebase-admin `createCustomToken`', target: () => google.fresh(`${fb.url}/bench/admin-exchange`, fb.pid, 'exchange'), after: (r) => google.advance(r), mustNotReuse: true },
      ];
      const active = ONLY.has('table') ? cases.filter((c) => CASES === undefined || CASES.has(c.key)) : cases.filter((c) => c.key === 'exchange');

      if (ONLY.has('table')) {
        // The cache-full server: 10,000 distinct tokens, each sent twice (second-use admission), the hot ones among them.
        const filled = await sendAll(`${full.url}/v1/me`, [...fill, ...fill], 32);
        if (filled !== 2 * FILL) throw new Error(`filling the cache: ${filled} of ${2 * FILL} requests answered 200`);
        // Warm-up: every route once (JIT, key sets, firebase-admin's certificate fetch).
        for (const c of active) {
          const r = await runWrk(c.target(), 1, CONNECTIONS);
          c.after?.(r);
        }
      }

      const results = new Map<string, WrkResult[]>(active.map((c) => [c.key, []]));
      if (ONLY.has('table')) {
        const rssBefore = rssBytes(fb.pid);
        const freshBefore = fresh.cursor;
        let rssPeak = rssBefore;
        for (let round = 0; round < ROUNDS; round += 1) {
          rssPeak = Math.max(rssPeak, rssBytes(fb.pid));
          for (const c of active) {
            const r = await runWrk(c.target(), SECONDS, CONNECTIONS);
            c.after?.(r);
            if (c.mustNotReuse && r.reused > 0) process.stdout.write(`WARNING: ${c.key} reused ${r.reused} tokens (pool too small: raise --fb-tokens/--google-tokens)\n`);
            (results.get(c.key) as WrkResult[]).push(r);
          }
        }
        const rssAfter = rssBytes(fb.pid);
        rssPeak = Math.max(rssPeak, rssAfter);
        const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
        rows.push({ case: `firebridge server RSS growth over the rounds (after the warm-up: ${mb(rssBefore)}; about ${fmt(Math.min(fresh.cursor, FB_TOKENS) - freshBefore)} never-seen tokens and all the other cases since; peak sampled per round ${mb(rssPeak)})`, figure: mb(rssAfter - rssBefore), peer: '100 MB', ratio: (rssAfter - rssBefore) / (100 * 1048576), target: '<100 MB', pass: rssAfter - rssBefore < 100 * 1048576 });
        const m = (key: string, f: (r: WrkResult) => number) => median((results.get(key) as WrkResult[]).map(f));
        const rps = (key: string) => m(key, (r) => r.rps);
        const p99 = (key: string) => m(key, (r) => r.p99Ms);
        process.stdout.write(`\n## HTTP: firebridge and its peers (wrk, ${CONNECTIONS} connections, medians of ${ROUNDS} interleaved rounds of ${SECONDS} s)\n\n`);
        process.stdout.write('| case | req/s (median; rounds) | server CPU per request | of which the main thread | cores used | p99 | non-2xx |\n| --- | --- | --- | --- | --- | --- | --- |\n');
        for (const c of active) {
          const rs = results.get(c.key) as WrkResult[];
          const bad = rs.reduce((s, r) => s + r.non2xx + r.errors, 0);
          process.stdout.write(
            `| ${c.label} | ${fmt(rps(c.key))} (${rs.map((r) => fmt(r.rps)).join(', ')}) | ${m(c.key, (r) => r.cpuMsPerRequest).toFixed(3)} ms | ${m(c.key, (r) => r.mainCpuMsPerRequest).toFixed(3)} ms | ` +
              `${m(c.key, (r) => r.cores).toFixed(2)} | ${p99(c.key).toFixed(1)} ms | ${bad} |\n`,
          );
        }
        const ok = (...keys: string[]) => keys.every((k) => (results.get(k) as WrkResult[]).every((r) => r.non2xx + r.errors === 0));
        const both = (a: string, b: string) => results.has(a) && results.has(b);
        const ratio = (a: string, b: string, label: string, target?: number): Row | undefined => !both(a, b) ? undefined : ({
          case: label,
          figure: `${fmt(rps(a))} req/s (p99 ${p99(a).toFixed(1)} ms)`,
          peer: `${fmt(rps(b))} req/s (p99 ${p99(b).toFixed(1)} ms)`,
          ratio: rps(a) / rps(b),
          ...(target === undefined ? {} : { target: `≥${target}×`, pass: rps(a) / rps(b) >= target && ok(a, b) }),
        });
        const tail = (a: string, b: string, label: string, target: number): Row | undefined => !both(a, b) ? undefined : ({
          case: label,
          figure: `${p99(a).toFixed(1)} ms`,
          peer: `${p99(b).toFixed(1)} ms`,
          ratio: p99(a) / p99(b),
          target: `≤${target}×`,
          pass: p99(a) <= target * p99(b),
        });
        const targetRows = [
          ratio('new', 'joseNew', 'never-seen Firebase ID tokens: firebridge vs express + jose route (remote JWKS)', 1.3),
          ratio('new', 'adminNew', 'never-seen Firebase ID tokens: firebridge vs firebase-admin verifyIdToken', 4),
          tail('new', 'joseNew', 'never-seen tokens, p99: firebridge vs the jose route', 1.5),
          ratio('hit', 'bare', 'one token repeated (cache hit) vs bare express route', 0.9),
          tail('hit', 'bare', 'same, p99', 1.2),
          ratio('fullHit', 'bare', `cache full (${fmt(FILL)} entries), ${HOT} hot tokens vs bare express route`, 0.9),
          tail('fullHit', 'bare', 'same, p99', 1.2),
          ratio('authz', 'hit', 'GET /v1/authz vs GET /v1/me (forward-auth costs no more)', 0.95),
          ratio('exchange', 'joseExchange', 'exchange vs the jose minimal exchange', 1.1),
          ratio('exchange', 'adminExchange', 'exchange vs the same exchange signing with firebase-admin', 5),
          ratio('joseHit', 'bare', 'jose route, one token repeated, vs bare (informative)'),
        ];
        rows.push(...targetRows.filter((row): row is Row => row !== undefined));
      }

      if (ONLY.has('saturation')) {
        // /v1/me latency (4 connections) while exchanges saturate the server.
        const [saturating, meUnderLoad] = await Promise.all([
          runWrk(google.fresh(`${fb.url}/v1/token/google`, fb.pid, 'exchange'), SECONDS, CONNECTIONS),
          runWrk({ url: `${fb.url}/v1/me`, pid: fb.pid, mode: 'static', headers: auth }, SECONDS, 4),
        ]);
        google.advance(saturating);
        rows.push({ case: `GET /v1/me p99 (4 connections) while ${CONNECTIONS} connections saturate POST /v1/token/google (${fmt(saturating.rps)} exchanges/s)`, figure: `${meUnderLoad.p99Ms.toFixed(1)} ms (p50 ${meUnderLoad.p50Ms.toFixed(1)} ms, ${fmt(meUnderLoad.rps)} req/s)`, peer: '50 ms', ratio: meUnderLoad.p99Ms / 50, target: '<50 ms', pass: meUnderLoad.p99Ms < 50 && meUnderLoad.non2xx === 0 });
      }
      for (const s of [full, bare, jose, joseExchange, admin]) await s.stop();
    }

    if (ONLY.has('burst')) {
      // 1000 concurrent requests with a kid the server has not fetched yet.
      const sinceStart = Date.now() - fb.startedAt;
      if (sinceStart < 10_500) await sleep(10_500 - sinceStart); // past CERTS_REFETCH_COOLDOWN_MS since the warm-up fetch
      const newKey = fake.rotateSecuretoken();
      const burstTokens = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => fake.firebaseIdToken({ sub: `burst-user-${i}`, user_id: `burst-user-${i}` }, { key: newKey })),
      );
      const hitsBefore = fake.securetoken.hits;
      const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
      const t0 = Date.now();
      const statuses = await Promise.all(burstTokens.map((t) => get(`${fb.url}/v1/me`, t, agent)));
      const burstMs = Date.now() - t0;
      const burstFetches = fake.securetoken.hits - hitsBefore;
      const burstOk = statuses.filter((code) => code === 200).length;
      agent.destroy();
      rows.push({ case: `burst: 1000 concurrent GET /v1/me, 1000 users, kid not yet fetched (all answered in ${burstMs} ms; ${burstOk}/1000 were 200)`, figure: `${burstFetches} upstream fetch(es)`, peer: '1 fetch', ratio: burstFetches, target: '1 fetch, 1000×200', pass: burstFetches === 1 && burstOk === 1000 });
    }

    printRows('HTTP targets (ratios of medians of the same interleaved rounds)', rows);
  } finally {
    for (const s of servers) await s.stop();
    await tls.close();
    await fake.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
