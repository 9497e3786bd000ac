/**
 * `npm run cluster-test`: several instances behind a load balancer, sharing one Redis. Bounded in time and
 * count, 127.0.0.1 only. `CI=true` (or --short) selects the short version.
 *
 * Runs the fake Google in this process (shared by every instance), a redis-server of its own on a free port
 * (so it can restart it), three bridges (src/main.ts) sharing that Redis and one KEYS_DIR, and nginx in front
 * (`upstream` with max_fails). Clients mix, through nginx:
 *   - exchanges: POST /v1/nonce, then POST /v1/token/google with a fresh Google ID token carrying that nonce
 *     (REQUIRE_NONCE and REPLAY_PROTECTION are on: the nonce is issued by one instance and consumed by another);
 *   - protected calls: GET /v1/me with Firebase ID tokens;
 *   - forward-auth: GET /v1/authz with the same tokens (200 with X-Auth-Uid naming the user).
 * Meanwhile:
 *   - replay probes: one Google ID token sent to all three instances at once (directly): exactly one may exchange;
 *   - a rate-limit probe: one client IP sends 3 x RATE_LIMIT_NONCE_PER_MINUTE nonce requests spread over the three
 *     instances: at most the limit may pass in total;
 *   - one instance is killed with SIGKILL and restarted on its port;
 *   - the signing key is rotated through the shared KEYS_DIR (`npm run keys -- rotate --from`), every instance
 *     follows;
 *   - Redis is restarted once (it keeps nothing: no persistence).
 *
 * Expected refusals, not failures: requests in flight on the killed instance (nginx retries idempotent ones on
 * another, a POST already sent is not retried: 502 from that instance); while Redis is down and just after, 503
 * (replay marks and nonces fail closed), nonces issued before the restart (lost with Redis: "nonce is unknown")
 * and tokens issued before the new replay epoch. Everything else is a failure. It prints the requests, the
 * expected refusals and failures by cause and p50/p99, and exits 1 if any request failed, a token was exchanged
 * twice, or the rate limit was exceeded in total; 0 otherwise.
 *
 *   npm run cluster-test -- [--duration SECONDS] [--clients N] [--short]
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { FakeGoogle, IDENTITY_TOOLKIT_AUDIENCE, type TestServiceAccount } from '../../testkit/fake-google';
import { configuredEnv, keysDirWith } from '../../testkit/harness';
import { testAuditLog } from '../../testkit/spawn-server';
import { downloadedKeyFile, keysCli } from '../../testkit/keys-cli';
import { OwnRedis, freePort } from '../../testkit/redis-server';
import { type BridgeProcess, startBridge } from '../loadtest/bridge-process';
import { type Nginx, startNginx } from './nginx';

// ---------------------------------------------------------------- options

interface Options {
  durationS: number;
  clients: number;
  maxRequests: number;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const short = env.CI === 'true' || argv.includes('--short');
  const options: Options = { durationS: short ? 12 : 30, clients: short ? 4 : 12, maxRequests: 200_000 };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--short') continue;
    const value = Number(argv[i + 1]);
    if (arg === '--duration' && Number.isInteger(value) && value >= 8) options.durationS = Math.min(value, 300);
    else if (arg === '--clients' && Number.isInteger(value) && value >= 1) options.clients = Math.min(value, 64);
    else {
      process.stderr.write('usage: npm run cluster-test -- [--duration SECONDS (8..300)] [--clients N (1..64)] [--short]\n');
      process.exit(2);
    }
    i += 1;
  }
  return options;
}

// ---------------------------------------------------------------- bookkeeping

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Window {
  from: number;
  to: number;
}

class Results {
  requests = 0;
  readonly latencies: number[] = [];
  readonly failures = new Map<string, number>();
  readonly expected = new Map<string, number>();
  doubleExchanges = 0;
  replayProbes = 0;
  rateLimit = { limit: 0, sent: 0, allowed: 0, limited: 0 };
  readonly kids = new Map<string, number>();
  /** The first failures, with when (s into the run) and which instance answered, for diagnosis. */
  readonly firstFailures: string[] = [];

  add(map: Map<string, number>, cause: string): void {
    map.set(cause, (map.get(cause) ?? 0) + 1);
  }
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  upstream: string;
  ms: number;
  at: number;
  /** The bridge's X-Auth-Uid (forward-auth answers). */
  authUid?: string;
  cause?: string;
}

async function call(url: string, init: RequestInit & { xff?: string }): Promise<Answer> {
  const started = Date.now();
  const headers = new Headers(init.headers);
  if (init.xff) headers.set('X-Forwarded-For', init.xff);
  try {
    const res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(10_000), redirect: 'manual' });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { raw: text.slice(0, 80) };
    }
    const authUid = res.headers.get('x-auth-uid') ?? undefined;
    return { status: res.status, body, upstream: res.headers.get('x-upstream') ?? '', ms: Date.now() - started, at: started, authUid };
  } catch (err) {
    return { status: 0, body: {}, upstream: '', ms: Date.now() - started, at: started, cause: (err as Error).message };
  }
}

// ---------------------------------------------------------------- the run

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const runStarted = Date.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'firebridge-cluster-'));
  const results = new Results();
  const rateLimitPerMinute = 20;
  results.rateLimit.limit = rateLimitPerMinute;
  let fake: FakeGoogle | undefined;
  let redis: OwnRedis | undefined;
  let nginx: Nginx | undefined;
  const bridges: Array<BridgeProcess | undefined> = [];
  /** Every bridge process started, ready or not (an interrupt stops them all). */
  const spawned = new Set<ChildProcess>();
  const track = (child: ChildProcess) => spawned.add(child);
  const log = (line: string) => process.stdout.write(`[${((Date.now() - runStarted) / 1000).toFixed(1)}s] ${line}\n`);
  // Windows of expected refusals: the killed instance (by its port), Redis down and just after.
  const killWindows: Array<Window & { upstream: string }> = [];
  const redisWindows: Window[] = [];
  const inWindow = (windows: Window[], at: number) => windows.some((w) => at >= w.from && at <= w.to);
  // Ctrl-C (or the CI guard's SIGINT): stop everything this run started, then exit 130.
  const onSignal = (): void => {
    process.stdout.write('cluster-test: interrupted; stopping everything it started\n');
    for (const child of spawned) if (child.exitCode === null) child.kill('SIGKILL');
    Promise.all([nginx?.stop(), redis?.close(), fake?.close()])
      .catch(() => undefined)
      .finally(() => {
        rmSync(dir, { recursive: true, force: true });
        process.exit(130);
      });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    fake = await FakeGoogle.start();
    const first: TestServiceAccount = fake.createServiceAccount();
    const keysDir = keysDirWith(first);
    redis = await OwnRedis.start();
    log(`redis-server on ${redis.port}`);
    const ports = [await freePort(), await freePort(), await freePort()];
    const env = configuredEnv(fake, keysDir, {
      LOG_LEVEL: 'warn',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `cluster-${process.pid}:`,
      TRUST_PROXY: 'loopback',
      REQUIRE_NONCE: 'true',
      REPLAY_PROTECTION: 'true',
      RATE_LIMIT_NONCE_PER_MINUTE: String(rateLimitPerMinute),
      RATE_LIMIT_EXCHANGE_PER_MINUTE: String(rateLimitPerMinute),
      KEYS_POLL_INTERVAL_MS: '300',
    });
    // One audit log per instance: two processes must never append to one chain.
    for (const port of ports) bridges.push(await startBridge({ ...env, AUDIT_LOG: testAuditLog() }, 20_000, port, track));
    log(`bridges on ${ports.join(', ')}`);
    nginx = await startNginx(dir, await freePort(), ports);
    log(`nginx on ${nginx.url}`);
    const lb = nginx.url;

    const deadline = runStarted + options.durationS * 1000 + 3000;
    let running = true;
    let ipCounter = 0;
    // Each client changes its (forwarded) IP every few requests: normal traffic stays under the limits.
    const freshIp = () => {
      ipCounter += 1;
      return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
    };

    const judge = (kind: string, answer: Answer, ok: boolean): void => {
      results.requests += 1;
      results.latencies.push(answer.ms);
      if (ok) return;
      const description = typeof answer.body.error_description === 'string' ? answer.body.error_description : '';
      const cause = `${kind}: ${answer.status === 0 ? `no answer (${answer.cause})` : `${answer.status} ${description || JSON.stringify(answer.body)}`}`;
      const killed = killWindows.find((w) => answer.at >= w.from && answer.at <= w.to && answer.upstream.includes(w.upstream));
      if (killed && (answer.status === 502 || answer.status === 0)) {
        results.add(results.expected, `${kind}: in flight on the killed instance (${answer.status})`);
        return;
      }
      if (inWindow(redisWindows, answer.at)) {
        if (answer.status === 503) return results.add(results.expected, `${kind}: 503 while Redis restarted (fail closed)`);
        if (/nonce is unknown/.test(description)) return results.add(results.expected, `${kind}: nonce lost with the Redis restart`);
        if (/before the bridge's replay protection last restarted/.test(description)) {
          return results.add(results.expected, `${kind}: issued before the new replay epoch`);
        }
      }
      results.add(results.failures, cause);
      if (results.firstFailures.length < 10) {
        results.firstFailures.push(`t=${((answer.at - runStarted) / 1000).toFixed(2)}s +${answer.ms}ms upstream=${answer.upstream || '-'} ${cause}`);
      }
    };

    const exchangeOnce = async (ip: string): Promise<void> => {
      const nonce = await call(`${lb}/v1/nonce`, { method: 'POST', xff: ip });
      judge('nonce', nonce, nonce.status === 200 && typeof nonce.body.nonce === 'string');
      if (nonce.status !== 200 || typeof nonce.body.nonce !== 'string') return;
      const idToken = await fake!.googleIdToken({ nonce: nonce.body.nonce, jti: randomUUID(), sub: `1${Date.now()}${ipCounter}` });
      const res = await call(`${lb}/v1/token/google`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ idToken }),
        xff: ip,
      });
      const token = res.body.customToken;
      judge('exchange', res, res.status === 200 && typeof token === 'string');
      if (typeof token === 'string') {
        const kid = decodeProtectedHeader(token).kid ?? '?';
        results.kids.set(kid, (results.kids.get(kid) ?? 0) + 1);
      }
    };

    const meOnce = async (ip: string, idToken: string): Promise<void> => {
      const res = await call(`${lb}/v1/me`, { headers: { authorization: `Bearer ${idToken}` }, xff: ip });
      judge('me', res, res.status === 200 && typeof res.body.uid === 'string');
    };

    const authzOnce = async (ip: string, idToken: string, uid: string): Promise<void> => {
      const res = await call(`${lb}/v1/authz`, { headers: { authorization: `Bearer ${idToken}` }, xff: ip });
      judge('authz', res, res.status === 200 && res.authUid === uid);
    };

    const client = async (n: number): Promise<void> => {
      let ip = freshIp();
      let sent = 0;
      const uid = `user-${n}`;
      const now = Math.floor(Date.now() / 1000);
      const firebaseToken = await fake!.firebaseIdToken({ sub: uid, user_id: uid, iat: now, exp: now + 3600, auth_time: now });
      while (running && Date.now() < deadline && results.requests < options.maxRequests) {
        if (sent % 6 === 5) ip = freshIp();
        sent += 1;
        if (n % 2 === 0 || sent % 3 === 0) await exchangeOnce(ip);
        else if (sent % 2 === 0) await authzOnce(ip, firebaseToken, uid);
        else await meOnce(ip, firebaseToken);
      }
    };

    // One token to every instance at once: at most one exchange. Not across the Redis restart (the marks go
    // with it: a documented limit, README "Several instances").
    const replayProbe = async (): Promise<void> => {
      const start = Date.now();
      if (inWindow(redisWindows, start) || redisWindows.some((w) => w.to === Infinity)) return;
      const ip = freshIp();
      const nonce = await call(`${lb}/v1/nonce`, { method: 'POST', xff: ip });
      if (nonce.status !== 200 || typeof nonce.body.nonce !== 'string') return;
      const idToken = await fake!.googleIdToken({ nonce: nonce.body.nonce, jti: randomUUID() });
      const answers = await Promise.all(
        ports.map((port) =>
          call(`http://127.0.0.1:${port}/v1/token/google`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ idToken }),
            xff: ip,
          }),
        ),
      );
      results.replayProbes += 1;
      const exchanged = answers.filter((a) => a.status === 200).length;
      if (exchanged > 1) results.doubleExchanges += 1;
      for (const answer of answers) {
        if (answer.status === 200) continue;
        results.requests += 1;
        const refusedAsReplay = answer.status === 401 && /already exchanged|nonce is unknown/.test(String(answer.body.error_description));
        const onKilled = killWindows.some((w) => answer.at >= w.from && answer.at <= w.to) && answer.status === 0;
        if (refusedAsReplay) results.add(results.expected, 'replay probe: refused as a replay');
        else if (onKilled) results.add(results.expected, 'replay probe: sent to the killed instance');
        else if (inWindow(redisWindows, answer.at) && answer.status === 503) results.add(results.expected, 'replay probe: 503 while Redis restarted');
        else results.add(results.failures, `replay probe: ${answer.status} ${JSON.stringify(answer.body)}`);
      }
    };

    // One client IP over every instance: the limit holds in total.
    const rateLimitProbe = async (): Promise<void> => {
      const ip = '203.0.113.77';
      for (let i = 0; i < rateLimitPerMinute * 3; i++) {
        const port = ports[i % ports.length] as number;
        const res = await call(`http://127.0.0.1:${port}/v1/nonce`, { method: 'POST', xff: ip });
        results.rateLimit.sent += 1;
        results.requests += 1;
        if (res.status === 200) results.rateLimit.allowed += 1;
        else if (res.status === 429) results.rateLimit.limited += 1;
        else results.add(results.failures, `rate-limit probe: ${res.status} ${JSON.stringify(res.body)}`);
      }
      log(`rate-limit probe: ${results.rateLimit.allowed} allowed, ${results.rateLimit.limited} limited of ${results.rateLimit.sent} (limit ${rateLimitPerMinute}/min over 3 instances)`);
    };

    const at = (fraction: number) => runStarted + 3000 + fraction * options.durationS * 1000;
    const waitUntil = async (when: number) => {
      while (Date.now() < when) await sleep(Math.min(100, when - Date.now()));
    };

    // The scenario, in order, while the clients run.
    let next: TestServiceAccount | undefined;
    const scenario = async (): Promise<void> => {
      await rateLimitProbe();
      await waitUntil(at(0.25));
      const victim = 1;
      const killed = bridges[victim] as BridgeProcess;
      const window = { from: Date.now() - 1000, to: Infinity, upstream: `127.0.0.1:${ports[victim]}` };
      killWindows.push(window);
      killed.child.kill('SIGKILL');
      log(`instance ${victim} (port ${ports[victim]}) killed with SIGKILL`);
      await killed.stop();
      await sleep(1000);
      bridges[victim] = await startBridge(env, 20_000, ports[victim], track);
      log(`instance ${victim} restarted on port ${ports[victim]}`);
      window.to = Date.now() + 1000;

      await waitUntil(at(0.45));
      next = fake!.createServiceAccount();
      const rotation = await keysCli(['rotate', '--from', downloadedKeyFile(next)], { KEYS_DIR: keysDir, FIREBASE_PROJECT_ID: fake!.projectId });
      if (rotation.code !== 0) results.add(results.failures, `key rotation: exit ${rotation.code} ${rotation.stderr.join(' ')}`);
      log(`signing key rotated through KEYS_DIR: ${first.key.kid} -> ${next.key.kid}`);

      await waitUntil(at(0.7));
      // From just before the stop: requests already under way meet the outage too (up to the command timeout).
      const redisWindow = { from: Date.now() - 1500, to: Infinity };
      redisWindows.push(redisWindow);
      await redis!.restart(500);
      log('redis-server restarted (everything in it lost)');
      // Expected refusals until every instance is ready again, and a little after (requests in flight).
      const readyBy = Date.now() + 20_000;
      for (const port of ports) {
        while ((await call(`http://127.0.0.1:${port}/readyz`, {})).status !== 200) {
          if (Date.now() > readyBy) throw new Error(`instance on ${port} not ready 20 s after the Redis restart`);
          await sleep(50);
        }
      }
      redisWindow.to = Date.now() + 1500;
      log(`every instance ready again (expected refusals counted from ${((redisWindow.from - runStarted) / 1000).toFixed(1)}s to ${((redisWindow.to - runStarted) / 1000).toFixed(1)}s)`);
    };

    const probes = async (): Promise<void> => {
      while (running && Date.now() < deadline) {
        await replayProbe();
        await sleep(150);
      }
    };

    const scenarioDone = scenario();
    const clients = Array.from({ length: options.clients }, (_, n) => client(n));
    const probesDone = probes();
    await scenarioDone;
    await waitUntil(Math.min(deadline, Math.max(Date.now() + 2000, deadline)));
    running = false;
    await Promise.all([...clients, probesDone]);

    // After the rotation, every instance signs with the new key: probe each directly.
    if (next) {
      for (const port of ports) {
        const nonce = await call(`http://127.0.0.1:${port}/v1/nonce`, { method: 'POST', xff: freshIp() });
        const idToken = await fake.googleIdToken({ nonce: nonce.body.nonce, jti: randomUUID() });
        const res = await call(`http://127.0.0.1:${port}/v1/token/google`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ idToken }),
          xff: freshIp(),
        });
        results.requests += 2;
        const token = String(res.body.customToken ?? '');
        const verified = await jwtVerify(token, next.key.publicKey, {
          algorithms: ['RS256'],
          audience: IDENTITY_TOOLKIT_AUDIENCE,
          issuer: next.clientEmail,
        }).then(
          () => true,
          () => false,
        );
        if (!verified) results.add(results.failures, `after rotation: instance on ${port} did not sign with the new key (${res.status})`);
      }
      log('after the rotation every instance signs with the new key');
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await nginx?.stop().catch(() => undefined);
    await Promise.all(bridges.map((bridge) => bridge?.stop().catch(() => undefined)));
    await redis?.close().catch(() => undefined);
    await fake?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------- report
  const sorted = [...results.latencies].sort((a, b) => a - b);
  const pct = (p: number) => (sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number));
  const failed = [...results.failures.values()].reduce((a, b) => a + b, 0);
  const expected = [...results.expected.values()].reduce((a, b) => a + b, 0);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out('');
  out(`requests: ${results.requests} (p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${sorted.at(-1) ?? 0} ms)`);
  out(`custom tokens by signing key: ${[...results.kids].map(([kid, n]) => `${kid}=${n}`).join(' ')}`);
  out(`replay probes: ${results.replayProbes}, exchanged twice: ${results.doubleExchanges}`);
  out(`rate limit: ${results.rateLimit.allowed} allowed of ${results.rateLimit.sent} (limit ${results.rateLimit.limit} in total)`);
  out(`expected refusals: ${expected}`);
  for (const [cause, n] of [...results.expected].sort((a, b) => b[1] - a[1])) out(`  ${n} x ${cause}`);
  out(`failures: ${failed}`);
  for (const [cause, n] of [...results.failures].sort((a, b) => b[1] - a[1]).slice(0, 30)) out(`  ${n} x ${cause}`);
  for (const line of results.firstFailures) out(`  first failures: ${line}`);
  const rateLimitExceeded = results.rateLimit.allowed > results.rateLimit.limit || results.rateLimit.limited === 0;
  const pass = failed === 0 && results.doubleExchanges === 0 && !rateLimitExceeded && results.replayProbes > 0;
  out(
    `cluster-test: ${pass ? 'PASS' : 'FAIL'} requests=${results.requests} failed=${failed} expected_refusals=${expected} ` +
      `exchanged_twice=${results.doubleExchanges} rate_limit_allowed=${results.rateLimit.allowed}/${results.rateLimit.limit} ` +
      `p50_ms=${pct(50)} p99_ms=${pct(99)}`,
  );
  return pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`cluster-test: error: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
