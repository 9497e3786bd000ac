/**
 * `npm run loadtest`: the bridge under load while Google misbehaves (hardening issue). Bounded in
 * time and count, 127.0.0.1 only.
 *
 * Starts the fake Google (test/support/fake-google.ts) and the bridge (src/main.ts) in its own
 * process, then N concurrent clients mix:
 *   - valid exchanges: POST /v1/token/google with fresh Google ID tokens (replay protection is on:
 *     each token is used once);
 *   - valid protected calls: GET /v1/me with Firebase ID tokens (each client reuses its token for
 *     a while, as an app does, then takes a new one);
 *   - invalid requests: expired tokens, wrong audience, forged signatures under a real kid, random
 *     kids, replayed Google tokens, garbage headers and bodies, and (once the bridge has seen the
 *     key go) tokens signed with a key Google dropped.
 * Meanwhile the fake rotates its keys, fails (HTTP 503) for a while and hangs for a while.
 *
 * Every request knows whether it must succeed. It prints the requests, counts per class, errors by
 * cause and p50/p99/max latency, and exits 1 if any valid request failed or any invalid one
 * succeeded (or was answered 5xx), 0 otherwise. Everything is stopped at the end, also on Ctrl-C.
 *
 *   npm run loadtest -- --clients 32 --duration 20 --think-ms 2 --max-requests 500000
 *   (or LOADTEST_CLIENTS, LOADTEST_DURATION_S, LOADTEST_THINK_MS, LOADTEST_MAX_REQUESTS)
 *
 * Why every "valid" request must succeed, by the documented behaviour (README, "The key cache"):
 *   - the bridge caches each key set for max-age, clamped to at least 30 s, and serves the last good
 *     keys for CERTS_MAX_STALE_SECONDS (6 h) while refreshes fail or time out (stale-if-error); a
 *     valid request only needs a kid the bridge already holds, so it never depends on a fetch
 *     succeeding: during the fail and hang windows valid requests are served from the cached keys
 *     (at most waiting CERTS_FETCH_TIMEOUT_MS for a refresh under way, single flight);
 *   - valid clients switch to a new key only after the bridge has fetched the key set that holds it
 *     (the controller asks the bridge: a token signed with the new key must be accepted first), so a
 *     valid token never carries a kid the bridge does not know;
 *   - a key is dropped at the fake only once no valid request signed with it is in flight and
 *     valid clients have switched away from it; tokens signed with it count as invalid only after
 *     the bridge has fetched the set without it (the controller checks that the bridge refuses such
 *     a token as an unknown kid), so none of them can be "accepted";
 *   - rotations and drops happen only while the fake answers, outages only between them. The
 *     bridge's key sets change only when it fetches, and a failed fetch keeps the last good set, so
 *     what the controller observed stays true until its next change.
 * The fake's max-age is set to 3 s, but the bridge clamps it to 30 s, so in a run shorter than
 * ~30 s refetches come from unknown kids (rotations, random-kid traffic) rather than expiry. From
 * --duration 100 on, the 503 window lasts 35 s, so the cached sets expire during it and valid
 * requests are served from stale keys (the refresh fails, then waits for the cooldown).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { FakeGoogle } from '../../testkit/fake-google';
import { WEB_CLIENT_ID, configuredEnv, keysDirWith } from '../../testkit/harness';
import { type TestKey, generateTestKey, selfSignedCertificate } from '../../testkit/keys';
import { type BridgeProcess, startBridge } from './bridge-process';
import { type Expectation, type Outcome, Stats } from './stats';

// ---------------------------------------------------------------- options

interface Options {
  clients: number;
  durationS: number;
  thinkMs: number;
  maxRequests: number;
}

const LIMITS = {
  clients: { def: 32, min: 1, max: 256 },
  durationS: { def: 20, min: 2, max: 300 },
  thinkMs: { def: 2, min: 0, max: 10_000 },
  maxRequests: { def: 500_000, min: 1, max: 5_000_000 },
};

const USAGE = `usage: npm run loadtest -- [--clients N] [--duration SECONDS] [--think-ms MS] [--max-requests N]
  --clients       concurrent clients (default ${LIMITS.clients.def}, at most ${LIMITS.clients.max}; env LOADTEST_CLIENTS)
  --duration      seconds of load (default ${LIMITS.durationS.def}, at most ${LIMITS.durationS.max}; env LOADTEST_DURATION_S)
  --think-ms      average pause of a client between two requests (default ${LIMITS.thinkMs.def}; env LOADTEST_THINK_MS)
  --max-requests  stop after this many requests (default ${LIMITS.maxRequests.def}, at most ${LIMITS.maxRequests.max}; env LOADTEST_MAX_REQUESTS)`;

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const raw: Record<string, string | undefined> = {
    clients: env.LOADTEST_CLIENTS,
    durationS: env.LOADTEST_DURATION_S,
    thinkMs: env.LOADTEST_THINK_MS,
    maxRequests: env.LOADTEST_MAX_REQUESTS,
  };
  const names: Record<string, keyof Options> = {
    '--clients': 'clients',
    '--duration': 'durationS',
    '--think-ms': 'thinkMs',
    '--max-requests': 'maxRequests',
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined];
    const name = names[flag];
    if (!name) throw new UsageError(`unknown argument ${arg}`);
    const value = inline ?? argv[(i += 1)];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    raw[name] = value;
  }
  const out = {} as Options;
  for (const name of Object.keys(LIMITS) as Array<keyof Options>) {
    const { def, min, max } = LIMITS[name];
    const text = raw[name];
    const value = text === undefined || text === '' ? def : Number(text);
    if (!Number.isFinite(value) || value < min) throw new UsageError(`${name} must be a number ≥ ${min}, got "${text}"`);
    out[name] = Math.min(max, value); // hard caps
  }
  return out;
}

class UsageError extends Error {}

// ---------------------------------------------------------------- helpers

const b64u = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)] as T;
const googleSub = () => `1${Array.from({ length: 20 }, () => randomInt(10)).join('')}`;

interface Reply {
  status: number;
  body: string;
  ms: number;
  clientError?: string;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- the run

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`loadtest: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  const log = (line: string) => process.stdout.write(`${line}\n`);
  let started = Date.now();
  const at = () => `+${((Date.now() - started) / 1000).toFixed(1)}s`;

  let fake: FakeGoogle | undefined;
  let bridge: BridgeProcess | undefined;
  let keysDir: string | undefined;
  let stopping = false;
  let interrupted = false;
  const wake = new Set<() => void>();
  const stop = () => {
    stopping = true;
    for (const w of wake) w();
  };
  const onSigint = () => {
    if (interrupted) {
      bridge?.child.kill('SIGKILL');
      process.exit(130);
    }
    interrupted = true;
    log(`${at()} interrupted: stopping clients, the bridge and the fake (Ctrl-C again to kill at once)`);
    stop();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  // Never leave the bridge behind, whatever happens.
  process.on('exit', () => {
    if (bridge && bridge.child.exitCode === null) bridge.child.kill('SIGKILL');
  });
  /** Sleeps, but wakes up early when the run stops. */
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping) return resolve();
      const done = () => {
        clearTimeout(timer);
        wake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wake.add(done);
    });

  try {
    fake = await FakeGoogle.start('fb-load-project');
    // Short max-age so every fetch tells the bridge to come back soon (the bridge clamps it to 30 s).
    fake.google.maxAgeSeconds = 3;
    fake.securetoken.maxAgeSeconds = 3;
    const account = fake.createServiceAccount();
    keysDir = keysDirWith(account);
    const cooldownMs = 500;
    const fetchTimeoutMs = 500;
    const starting = startBridge(
      configuredEnv(fake, keysDir, {
        LOG_LEVEL: 'warn',
        RATE_LIMIT_EXCHANGE_PER_MINUTE: '0',
        RATE_LIMIT_NONCE_PER_MINUTE: '0',
        CERTS_REFETCH_COOLDOWN_MS: String(cooldownMs),
        CERTS_FETCH_TIMEOUT_MS: String(fetchTimeoutMs),
        REPLAY_PROTECTION: 'true',
        REQUIRE_NONCE: 'false',
        CHECK_REVOKED: 'false',
        // Empty values override anything a stray .env in the repository might set.
        REDIS_URL: '',
        ADMIN_API_TOKEN: '',
        GOOGLE_HOSTED_DOMAINS: '',
        ALLOWED_EMAILS: '',
        ALLOWED_EMAIL_DOMAINS: '',
        GOOGLE_AZP_ALLOWLIST: '',
        TRUST_PROXY: '',
      }),
    );
    starting.catch(() => undefined);
    // While the bridge starts: the keys of the two rotations (RSA key generation and node-forge
    // certificates are synchronous and slow; doing them mid-run would stall this client's loop).
    const upcoming = [0, 1].map(() => {
      const firebase = generateTestKey();
      return { google: generateTestKey(), firebase, cert: selfSignedCertificate(firebase) };
    });
    const attacker = generateTestKey();
    bridge = await starting;
    const target = new URL(bridge.url);
    if (target.hostname !== '127.0.0.1' || new URL(fake.url).hostname !== '127.0.0.1') {
      throw new Error(`refusing to send traffic anywhere but 127.0.0.1 (${bridge.url}, ${fake.url})`);
    }
    const port = Number(target.port);
    log(
      `loadtest: ${options.clients} clients, ${options.durationS} s (at most ${options.maxRequests} requests), think ${options.thinkMs} ms; ` +
        `bridge ${bridge.url} (pid ${bridge.child.pid}), fake Google ${fake.url}`,
    );

    const stats = new Stats();
    const agent = new Agent({ keepAlive: true, maxSockets: options.clients + 4 });

    function send(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Reply> {
      return new Promise((resolve) => {
        const payload = body === undefined ? undefined : Buffer.from(body);
        const all = { ...headers };
        if (payload) all['content-length'] = String(payload.length);
        const t0 = performance.now();
        const done = (status: number, text: string, clientError?: string) =>
          resolve({ status, body: text, ms: performance.now() - t0, clientError });
        const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: all, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
          res.on('error', (err) => done(0, '', `response error: ${err.message}`));
        });
        req.setTimeout(10_000, () => req.destroy(new Error('client timeout (10 s)')));
        req.on('error', (err) => done(0, '', err.message));
        req.end(payload);
      });
    }

    function outcome(kind: string, expect: Expectation, reply: Reply, validOk: (body: Record<string, unknown> | undefined) => boolean): Outcome {
      const json = parseJson(reply.body);
      const error = reply.clientError ? 'client_error' : typeof json?.error === 'string' ? json.error : undefined;
      const description = reply.clientError ?? (typeof json?.error_description === 'string' ? json.error_description : undefined);
      const ok =
        expect === 'valid'
          ? reply.status === 200 && validOk(json)
          : reply.status >= 400 && reply.status < 500 && typeof json?.error === 'string';
      return { kind, expect, status: reply.status, error, description: reply.status === 200 && !ok ? 'unexpected body' : description, ok, ms: reply.ms };
    }

    // ------------------------------------------------------------ keys and the timeline's state

    interface Generation {
      id: number;
      google: TestKey;
      firebase: TestKey;
    }
    let generation: Generation = {
      id: 0,
      google: fake.google.keys[0] as TestKey,
      firebase: fake.securetoken.keys[0] as TestKey,
    };
    /** Keys the bridge has seen leave Google's sets: tokens signed with them must now be refused. */
    const droppedGoogle: TestKey[] = [];
    const droppedFirebase: TestKey[] = [];
    /** Valid requests in flight, by the kid they are signed with (a key is dropped only at 0). */
    const inFlightByKid = new Map<string, number>();
    const track = (kid: string, delta: number) => inFlightByKid.set(kid, (inFlightByKid.get(kid) ?? 0) + delta);
    /** Google ID tokens exchanged successfully: replaying one must fail. */
    const exchanged: string[] = [];
    const timeline: string[] = [];
    const note = (line: string) => {
      timeline.push(`${at()} ${line}`);
      log(`${at()} ${line}`);
    };

    /** A small pool of pre-signed invalid tokens per kind and generation (refusals are never cached by the bridge). */
    const pools = new Map<string, Promise<string>[]>();
    function pooled(name: string, make: () => Promise<string>): Promise<string> {
      const key = `${name}#${generation.id}`;
      let pool = pools.get(key);
      if (!pool) pools.set(key, (pool = []));
      if (pool.length < 8) {
        const token = make();
        token.catch(() => undefined);
        pool.push(token);
        return token;
      }
      return pick(pool);
    }

    const now = () => Math.floor(Date.now() / 1000);
    /**
     * A token under a kid nobody published, with claims that pass every other check (the bridge
     * checks claims before it looks the kid up), so it reaches the key lookup: each one may make the
     * bridge refetch, at most once per CERTS_REFETCH_COOLDOWN_MS.
     */
    const randomKidToken = (audience: 'google' | 'firebase') => {
      const claims =
        audience === 'google'
          ? { iss: 'https://accounts.google.com', aud: WEB_CLIENT_ID, sub: googleSub(), iat: now(), exp: now() + 3600 }
          : { iss: `https://securetoken.google.com/${fake!.projectId}`, aud: fake!.projectId, sub: 'someone', auth_time: now(), iat: now(), exp: now() + 3600 };
      return `${b64u({ alg: 'RS256', kid: randomBytes(10).toString('hex'), typ: 'JWT' })}.${b64u(claims)}.${randomBytes(256).toString('base64url')}`;
    };

    // ------------------------------------------------------------ request kinds

    const isExchange = (sub: string) => (body: Record<string, unknown> | undefined) =>
      typeof body?.customToken === 'string' && body.uid === `google:${sub}` && body.expiresIn === 3600;
    const isMe = (sub: string) => (body: Record<string, unknown> | undefined) => body?.uid === sub;
    const anyBody = () => true;
    const postToken = (idToken: unknown) =>
      send('POST', '/v1/token/google', { 'content-type': 'application/json' }, JSON.stringify({ idToken }));
    const getMe = (token: string) => send('GET', '/v1/me', { authorization: `Bearer ${token}` });

    async function validExchange(): Promise<Outcome> {
      const key = generation.google;
      track(key.kid, 1);
      try {
        const sub = googleSub();
        const token = await fake!.googleIdToken({ sub }, { key });
        const out = outcome('valid exchange', 'valid', await postToken(token), isExchange(sub));
        if (out.ok) {
          exchanged.push(token);
          if (exchanged.length > 200) exchanged.shift();
        }
        return out;
      } finally {
        track(key.kid, -1);
      }
    }

    interface ClientState {
      id: number;
      firebase?: { generation: number; token: string; sub: string; uses: number };
    }

    async function validMe(client: ClientState): Promise<Outcome> {
      const key = generation.firebase;
      track(key.kid, 1);
      try {
        let held = client.firebase;
        if (!held || held.generation !== generation.id || held.uses >= 40) {
          const sub = `load-user-${client.id}-${randomBytes(4).toString('hex')}`;
          held = { generation: generation.id, sub, uses: 0, token: await fake!.firebaseIdToken({ sub, user_id: sub }, { key }) };
          client.firebase = held;
        }
        held.uses += 1;
        return outcome('valid me', 'valid', await getMe(held.token), isMe(held.sub));
      } finally {
        track(key.kid, -1);
      }
    }

    const past = () => ({ iat: now() - 7200, exp: now() - 3600, auth_time: now() - 7300 });
    const invalidKinds: Array<{ name: string; enabled?: () => boolean; run: () => Promise<Reply> }> = [
      { name: 'invalid exchange: expired', run: async () => postToken(await pooled('g-expired', () => fake!.googleIdToken(past(), { key: generation.google }))) },
      { name: 'invalid me: expired', run: async () => getMe(await pooled('f-expired', () => fake!.firebaseIdToken(past(), { key: generation.firebase }))) },
      {
        name: 'invalid exchange: wrong audience',
        run: async () => postToken(await pooled('g-aud', () => fake!.googleIdToken({ aud: 'evil-client.apps.googleusercontent.com' }, { key: generation.google }))),
      },
      {
        name: 'invalid me: wrong audience',
        run: async () => getMe(await pooled('f-aud', () => fake!.firebaseIdToken({}, { key: generation.firebase, projectId: 'other-project-1' }))),
      },
      {
        name: 'invalid exchange: forged, real kid',
        run: async () => postToken(await pooled('g-forged', () => fake!.googleIdToken({}, { key: attacker, header: { kid: generation.google.kid } }))),
      },
      {
        name: 'invalid me: forged, real kid',
        run: async () => getMe(await pooled('f-forged', () => fake!.firebaseIdToken({}, { key: attacker, header: { kid: generation.firebase.kid } }))),
      },
      { name: 'invalid exchange: random kid', run: () => postToken(randomKidToken('google')) },
      { name: 'invalid me: random kid', run: () => getMe(randomKidToken('firebase')) },
      { name: 'invalid exchange: replayed token', enabled: () => exchanged.length > 0, run: () => postToken(pick(exchanged)) },
      {
        name: 'invalid me: garbage',
        run: () =>
          send('GET', '/v1/me', {
            authorization: pick([
              'Bearer',
              'Basic dXNlcjpwYXNz',
              'Bearer a.b.c',
              `Bearer ${randomBytes(randomInt(1, 3000)).toString('base64url')}`,
              `Bearer ${randomBytes(300).toString('base64url')}.${randomBytes(300).toString('base64url')}.${randomBytes(256).toString('base64url')}`,
              `bearer  ${randomKidToken('firebase')} extra`,
              randomBytes(40).toString('latin1').replace(/[^\t\x20-\x7e\x80-\xff]/g, ' ').trim() || 'x',
            ]),
          }),
      },
      {
        name: 'invalid exchange: garbage',
        run: () =>
          pick([
            () => send('POST', '/v1/token/google', { 'content-type': 'application/json' }, '{"idToken": '),
            () => send('POST', '/v1/token/google', { 'content-type': 'application/json' }, JSON.stringify({ idToken: randomInt(1e9) })),
            () => send('POST', '/v1/token/google', { 'content-type': 'text/plain' }, 'idToken=abc'),
            () => send('POST', '/v1/token/google', { 'content-type': 'application/json' }, JSON.stringify({ idToken: randomBytes(200).toString('base64url') })),
            () => send('POST', '/v1/token/google', { 'content-type': 'application/json' }, JSON.stringify({ idToken: 'x'.repeat(20_000) })),
          ])(),
      },
      {
        name: 'invalid exchange: dropped key',
        enabled: () => droppedGoogle.length > 0,
        run: async () => postToken(await fake!.googleIdToken({ sub: googleSub() }, { key: pick(droppedGoogle) })),
      },
      {
        name: 'invalid me: dropped key',
        enabled: () => droppedFirebase.length > 0,
        run: async () => getMe(await pooled('f-dropped', () => fake!.firebaseIdToken({}, { key: pick(droppedFirebase) }))),
      },
    ];

    async function invalidRequest(): Promise<Outcome> {
      const kinds = invalidKinds.filter((k) => !k.enabled || k.enabled());
      const kind = pick(kinds);
      return outcome(kind.name, 'invalid', await kind.run(), anyBody);
    }

    let issued = 0;
    async function client(state: ClientState): Promise<void> {
      while (!stopping && issued < options.maxRequests) {
        issued += 1;
        const roll = Math.random();
        // 25% exchanges, 45% protected calls, 30% invalid requests.
        const result = roll < 0.25 ? await validExchange() : roll < 0.7 ? await validMe(state) : await invalidRequest();
        stats.record(result);
        if (options.thinkMs > 0) await nap(options.thinkMs * (0.5 + Math.random()));
      }
    }

    // ------------------------------------------------------------ the fake's timeline

    const durationMs = options.durationS * 1000;
    const loadStart = Date.now();
    started = loadStart; // timeline times are relative to the start of the load
    const until = (fraction: number) => nap(loadStart + fraction * durationMs - Date.now());

    /**
     * Waits until the bridge's view of the key sets is the one `check` wants, asking the bridge
     * itself (controller probes, not counted in the statistics): e.g. "a token signed with the new
     * key is accepted". Between checks, a random-kid request (an invalid one, counted as such) makes
     * the bridge refetch as soon as its cooldown allows. The bridge's key sets only change when it
     * fetches and the fake's sets only change here, so once true the answer stays true.
     */
    let controllerProbes = 0;
    async function waitForBridge(endpoint: 'google' | 'securetoken', check: () => Promise<boolean>): Promise<boolean> {
      while (!stopping) {
        controllerProbes += 1;
        if (await check()) return true;
        const probe = endpoint === 'google' ? postToken(randomKidToken('google')) : getMe(randomKidToken('firebase'));
        stats.record(outcome(`invalid ${endpoint === 'google' ? 'exchange' : 'me'}: random kid (probe)`, 'invalid', await probe, anyBody));
        await nap(100);
      }
      return false;
    }

    /** The bridge accepts tokens signed with these keys (so it has fetched the sets holding them). */
    async function bridgeAccepts(google: TestKey, firebase: TestKey): Promise<boolean> {
      const [g, f] = await Promise.all([
        waitForBridge('google', async () => {
          const sub = googleSub();
          const reply = await postToken(await fake!.googleIdToken({ sub }, { key: google }));
          return reply.status === 200;
        }),
        waitForBridge('securetoken', async () => {
          const sub = `probe-${randomBytes(4).toString('hex')}`;
          const reply = await getMe(await fake!.firebaseIdToken({ sub, user_id: sub }, { key: firebase }));
          return reply.status === 200;
        }),
      ]);
      return g && f;
    }

    const KID_UNKNOWN = 'token is signed with a key (kid) that is not in the published key set';
    /** The bridge refuses tokens signed with these keys as unknown kids (it has fetched the sets without them). */
    async function bridgeForgot(google: TestKey[], firebase: TestKey[]): Promise<boolean> {
      const refused = (reply: Reply) => reply.status === 401 && parseJson(reply.body)?.error_description === KID_UNKNOWN;
      const [g, f] = await Promise.all([
        waitForBridge('google', async () => {
          for (const key of google) if (!refused(await postToken(await fake!.googleIdToken({ sub: googleSub() }, { key })))) return false;
          return true;
        }),
        waitForBridge('securetoken', async () => {
          for (const key of firebase) if (!refused(await getMe(await fake!.firebaseIdToken({}, { key })))) return false;
          return true;
        }),
      ]);
      return g && f;
    }

    async function rotate(): Promise<void> {
      const next = upcoming.shift();
      if (!next) return;
      const { google, firebase, cert } = next;
      // What FakeGoogle.rotateGoogle()/rotateSecuretoken() do, with keys generated before the run.
      fake!.securetoken.certs.set(firebase.kid, cert);
      fake!.google.keys = [...fake!.google.keys, google];
      fake!.securetoken.keys = [...fake!.securetoken.keys, firebase];
      note(`rotation: the fake publishes new keys (google ${google.kid}, securetoken ${firebase.kid}) next to the old ones`);
      if (!(await bridgeAccepts(google, firebase))) return;
      const old = generation;
      generation = { id: old.id + 1, google, firebase };
      note(`rotation: the bridge accepts tokens of the new keys; valid clients now sign with them (generation ${generation.id})`);
    }

    async function dropOldKeys(): Promise<void> {
      const current = generation;
      const old = {
        google: fake!.google.keys.filter((k) => k.kid !== current.google.kid),
        firebase: fake!.securetoken.keys.filter((k) => k.kid !== current.firebase.kid),
      };
      if (old.google.length === 0 && old.firebase.length === 0) return;
      // No valid request signed with an old key may still be in flight.
      const busy = () => [...old.google, ...old.firebase].some((k) => (inFlightByKid.get(k.kid) ?? 0) > 0);
      while (!stopping && busy()) await nap(20);
      if (stopping) return;
      fake!.google.keys = [current.google];
      fake!.securetoken.keys = [current.firebase];
      note(`drop: the fake no longer publishes ${old.google.length + old.firebase.length} old key(s)`);
      if (!(await bridgeForgot(old.google, old.firebase))) return;
      droppedGoogle.push(...old.google);
      droppedFirebase.push(...old.firebase);
      note('drop: the bridge refuses the dropped keys as unknown; tokens signed with them now count as invalid');
    }

    function setMode(mode: 'ok' | 'fail' | 'hang'): void {
      if (fake!.google.mode === mode && fake!.securetoken.mode === mode) return;
      fake!.google.mode = mode;
      fake!.securetoken.mode = mode;
      note(
        mode === 'ok'
          ? 'the fake answers again'
          : mode === 'fail'
            ? 'outage: the fake answers every key-set fetch with HTTP 503'
            : 'outage: the fake accepts key-set fetches and never answers',
      );
    }

    /**
     * The 503 window lasts 12% of the run; from 100 s on, 35 s: longer than the 30 s the bridge keeps
     * a key set fresh, so the cached sets expire mid-outage and valid requests are served stale.
     */
    const failEnd = options.durationS >= 100 ? Math.max(0.4, 0.28 + 35 / options.durationS) : 0.4;

    /** Rotations and drops happen only while the fake answers; outages only between them. */
    async function scenario(): Promise<void> {
      await until(0.1);
      if (!stopping) await rotate();
      await until(0.28);
      if (!stopping) setMode('fail');
      await until(failEnd);
      setMode('ok');
      await until(0.44);
      if (!stopping) await dropOldKeys();
      await until(0.54);
      if (!stopping) setMode('hang');
      await until(0.68);
      setMode('ok');
      await until(0.72);
      if (!stopping) await rotate();
      await until(0.86);
      if (!stopping) await dropOldKeys();
    }

    // ------------------------------------------------------------ go

    const hardStop = setTimeout(stop, durationMs);
    const clients = Array.from({ length: options.clients }, (_, id) => client({ id }));
    const controller = scenario().catch((err: unknown) => note(`timeline error: ${(err as Error).message}`));
    await Promise.all(clients);
    stop();
    clearTimeout(hardStop);
    await controller;
    setMode('ok');
    const elapsedS = (Date.now() - loadStart) / 1000;
    agent.destroy();

    // ------------------------------------------------------------ report

    const t = stats.totals();
    log('');
    log(`requests: ${stats.total} in ${elapsedS.toFixed(1)} s (${(stats.total / elapsedS).toFixed(0)}/s), ${options.clients} clients`);
    for (const line of stats.table()) log(`  ${line}`);
    log(`valid:   ${t.validOk} ok, ${t.validFailed} failed`);
    log(`invalid: ${t.invalidRefused} refused (4xx), ${t.invalidAccepted} accepted (2xx), ${t.invalidServerError} answered 5xx or not at all`);
    const valid = stats.overall('valid');
    const invalid = stats.overall('invalid');
    log(`latency valid   p50 ${valid.p50.toFixed(1)} ms, p99 ${valid.p99.toFixed(1)} ms, max ${valid.max.toFixed(1)} ms`);
    log(`latency invalid p50 ${invalid.p50.toFixed(1)} ms, p99 ${invalid.p99.toFixed(1)} ms, max ${invalid.max.toFixed(1)} ms`);
    log('errors by cause (status error: description):');
    for (const [cause, n] of [...stats.causes].sort((a, b) => b[1] - a[1])) log(`  ${String(n).padStart(7)}  ${cause}`);
    log(`key-set fetches served by the fake: google ${fake.google.hits}, securetoken ${fake.securetoken.hits}; controller checks: ${controllerProbes}`);
    log('bridge log (warn and above):');
    for (const [line, n] of bridge.logCounts) log(`  ${String(n).padStart(7)}  ${line}`);
    if (stats.failures.length > 0) {
      log('first wrong answers:');
      for (const f of stats.failures) log(`  ${f.kind}: ${f.status} ${f.error ?? ''} ${f.description ?? ''} (${f.ms.toFixed(1)} ms)`);
    }
    const pass = t.validFailed === 0 && t.invalidAccepted === 0 && t.invalidServerError === 0 && !interrupted;
    log(
      `loadtest: ${pass ? 'PASS' : 'FAIL'} requests=${stats.total} valid_ok=${t.validOk} valid_failed=${t.validFailed} ` +
        `invalid_refused=${t.invalidRefused} invalid_accepted=${t.invalidAccepted} invalid_5xx=${t.invalidServerError} ` +
        `p50_ms=${valid.p50.toFixed(1)} p99_ms=${valid.p99.toFixed(1)}${interrupted ? ' (interrupted)' : ''}`,
    );
    return interrupted ? 130 : pass ? 0 : 1;
  } finally {
    stopping = true;
    const exit = await bridge?.stop().catch((err: unknown) => `stop failed: ${(err as Error).message}`);
    if (exit !== undefined) log(`bridge stopped (${exit})`);
    await fake?.close().catch(() => undefined);
    if (keysDir) rmSync(keysDir, { recursive: true, force: true });
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`loadtest: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
